// The TS client against the real daemon over a socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonFixture } from './helpers.js';
import { XenstoreClient } from '../src/client.js';

let fx: DaemonFixture;
beforeAll(async () => { fx = await startDaemon(); });
afterAll(async () => fx?.close());

describe('XenstoreClient', () => {
  it('reads, writes, lists, removes and reports errors as XenstoreError', async () => {
    const c = await fx.client();
    await c.write('/c1/a', 'x');
    await c.mkdir('/c1/b');
    expect(await c.directory('/c1')).toEqual(['a', 'b']);
    expect(await c.readString('/c1/a')).toBe('x');
    await c.rm('/c1/a');
    await expect(c.read('/c1/a')).rejects.toMatchObject({ code: 'XS_ENOENT', errnoName: 'ENOENT' });
  });

  it('pipelines many requests and matches every reply by req_id', async () => {
    const c = await fx.client();
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.write(`/c2/k${i}`, String(i))));
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => c.readString(`/c2/k${i}`)));
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('gets and sets perms and the domain path', async () => {
    const c = await fx.client();
    await c.write('/c3', 'v');
    await c.setPerms('/c3', [{ access: 'n', domid: 0 }, { access: 'r', domid: 0 }]);
    expect(await c.getPerms('/c3')).toEqual([{ access: 'n', domid: 0 }, { access: 'r', domid: 0 }]);
    expect(await c.getDomainPath(12)).toBe('/local/domain/12');
  });

  it('retries a transaction on EAGAIN until it commits', async () => {
    const c = await fx.client();
    const other = await fx.client();
    await c.write('/c4', '0');
    let runs = 0;
    await c.transaction(async (tx) => {
      runs++;
      const v = Number(await tx.readString('/c4'));
      if (runs === 1) await other.write('/c4', '100');
      await tx.write('/c4', String(v + 1));
    });
    expect(runs).toBe(2);
    expect(await c.readString('/c4')).toBe('101');
  });

  it('commits 60 concurrent transactions that each add a child under one parent (all conflict on it)', async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, () => fx.client()));
    await clients[0]!.mkdir('/c7');
    await Promise.all(clients.map((c, i) => c.transaction(async (tx) => {
      await tx.directory('/c7');
      await tx.mkdir(`/c7/d${i}`);
      await tx.write(`/c7/d${i}/name`, `n${i}`);
    })));
    expect((await clients[0]!.directory('/c7')).length).toBe(60);
  });

  it('aborts the transaction when fn throws', async () => {
    const c = await fx.client();
    await expect(c.transaction(async (tx) => {
      await tx.write('/c5', 'never');
      throw new Error('boom');
    })).rejects.toThrow('boom');
    await expect(c.read('/c5')).rejects.toMatchObject({ errnoName: 'ENOENT' });
  });

  it('delivers watch events through an async iterator and stops after close()', async () => {
    const c = await fx.client();
    const w = await c.watch('/c6');
    expect((await w.next()).path).toBe('/c6');
    await c.write('/c6/x', '1');
    await c.write('/c6/y', '2');
    const seen: string[] = [];
    for await (const e of w) {
      seen.push(e.path);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['/c6/x', '/c6/y']);
    await w.close();
  });

  it('introduces and releases domains as dom0; a demoted client may not', async () => {
    const c = await fx.client();
    await c.introduce(40, 1, 2);
    expect(await c.isDomainIntroduced(40)).toBe(true);
    await c.release(40);
    expect(await c.isDomainIntroduced(40)).toBe(false);
    const g = await fx.client();
    await g.demote(41);
    await expect(g.introduce(42, 1, 1)).rejects.toMatchObject({ errnoName: 'EACCES' });
    await expect(g.demote(1)).rejects.toMatchObject({ errnoName: 'EACCES' });
  });

  it('rejects pending work after close and refuses bad arguments at the boundary', async () => {
    const c = await XenstoreClient.connect(fx.path);
    await expect(c.introduce(0, 1, 1)).rejects.toMatchObject({ code: 'ERR_ARGUMENT' });
    await c.close();
    await expect(c.read('/')).rejects.toMatchObject({ code: 'XS_CLOSED' });
  });
});
