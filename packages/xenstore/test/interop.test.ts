// Interop: Debian's xenstore-utils (libxenstore 4.17) against our daemon,
// found through XENSTORED_PATH. Each case states what the tools must see.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool, startDaemon, type DaemonFixture } from './helpers.js';
import type { XenstoreClient } from '../src/client.js';

let fx: DaemonFixture;
const xs = (tool: string, ...args: string[]) => runTool(fx.path, tool, args);

beforeAll(async () => {
  try {
    execFileSync('sh', ['-c', 'command -v xenstore-read xenstore-write xenstore-ls xenstore-list xenstore-rm xenstore-chmod xenstore-watch xenstore-exists']);
  } catch {
    throw new Error("Debian's xenstore-utils are missing: run `apt-get install xenstore-utils` (or `npm run bootstrap` as root); these interop tests need the real tools");
  }
  fx = await startDaemon();
});
afterAll(async () => fx?.close());

describe('xenstore-utils against vpio-xenstored: basic operations', () => {
  it('1. write then read returns the value', async () => {
    expect((await xs('xenstore-write', '/i1/a', 'hello')).code).toBe(0);
    expect(await xs('xenstore-read', '/i1/a')).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('2. write creates missing parents with empty values', async () => {
    await xs('xenstore-write', '/i2/x/y/z', 'v');
    expect((await xs('xenstore-read', '/i2/x/y')).stdout).toBe('\n');
  });

  it('3. overwrite replaces the value', async () => {
    await xs('xenstore-write', '/i3', 'one');
    await xs('xenstore-write', '/i3', 'two');
    expect((await xs('xenstore-read', '/i3')).stdout).toBe('two\n');
  });

  it('4. write of several pairs (wrapped in a transaction) stores all of them', async () => {
    expect((await xs('xenstore-write', '/i4/a', '1', '/i4/b', '2')).code).toBe(0);
    expect((await xs('xenstore-read', '/i4/a', '/i4/b')).stdout).toBe('1\n2\n');
  });

  it('5. read of a missing path prints "couldn\'t read path" and exits 1', async () => {
    const r = await xs('xenstore-read', '/i5/nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("couldn't read path /i5/nope");
  });

  it('6. a 2000-byte value round-trips', async () => {
    const v = 'x'.repeat(2000);
    await xs('xenstore-write', '/i6', v);
    expect((await xs('xenstore-read', '/i6')).stdout).toBe(`${v}\n`);
  });

  it('7. a value at the 4096-byte payload limit is stored; one byte more fails client-side', async () => {
    expect((await xs('xenstore-write', '/i7', 'y'.repeat(4096 - 4))).code).toBe(0);
    expect((await xs('xenstore-write', '/i7', 'y'.repeat(4096 - 3))).code).toBe(1);
  });

  it('8. relative paths resolve under /local/domain/0', async () => {
    await xs('xenstore-write', 'i8rel', 'r');
    expect((await xs('xenstore-read', '/local/domain/0/i8rel')).stdout).toBe('r\n');
  });

  it('9. an invalid path is refused', async () => {
    const r = await xs('xenstore-write', '/i9/bad path', 'v');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not write path');
  });

  it('10. exists answers 0 for present and 1 for missing paths', async () => {
    await xs('xenstore-write', '/i10', '');
    expect((await xs('xenstore-exists', '/i10')).code).toBe(0);
    expect((await xs('xenstore-exists', '/i10/nope')).code).toBe(1);
  });
});

describe('listing', () => {
  it('11. list prints the children in creation order', async () => {
    for (const k of ['c', 'a', 'b']) await xs('xenstore-write', `/i11/${k}`, k);
    expect((await xs('xenstore-list', '/i11')).stdout).toBe('c\na\nb\n');
  });

  it('12. list of a leaf prints nothing', async () => {
    await xs('xenstore-write', '/i12', 'v');
    expect(await xs('xenstore-list', '/i12')).toMatchObject({ code: 0, stdout: '' });
  });

  it('13. list of a missing path fails', async () => {
    expect((await xs('xenstore-list', '/i13/none')).code).toBe(1);
  });

  it('14. ls prints the tree with values', async () => {
    await xs('xenstore-write', '/i14/a', '1', '/i14/b/c', '2');
    expect((await xs('xenstore-ls', '/i14')).stdout).toBe('a = "1"\nb = ""\n c = "2"\n');
  });

  it('15. ls -f prints full paths', async () => {
    await xs('xenstore-write', '/i15/k', 'v');
    expect((await xs('xenstore-ls', '-f', '/i15')).stdout).toBe('/i15/k = "v"\n');
  });

  it('16. ls of / shows /tool/xenstored as C xenstored starts', async () => {
    expect((await xs('xenstore-ls', '/')).stdout).toContain('tool = ""\n xenstored = ""\n');
  });

  it('17. ls of a missing path prints xs_directory with strerror', async () => {
    const r = await xs('xenstore-ls', '/i17');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('xs_directory (/i17): No such file or directory');
  });

  it('18. ls of a directory too large for one reply falls back to DIRECTORY_PART', async () => {
    const c = await fx.client();
    await Promise.all(Array.from({ length: 400 }, (_, i) => c.write(`/i18/child-${String(i).padStart(4, '0')}`, '')));
    const r = await xs('xenstore-list', '/i18');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(400);
  });
});

describe('removal', () => {
  it('19. rm removes a subtree', async () => {
    await xs('xenstore-write', '/i19/a/b', 'v');
    expect((await xs('xenstore-rm', '/i19')).code).toBe(0);
    expect((await xs('xenstore-exists', '/i19/a/b')).code).toBe(1);
  });

  it('20. rm of a missing node under an existing parent succeeds', async () => {
    await xs('xenstore-write', '/i20', '');
    expect((await xs('xenstore-rm', '/i20/nope')).code).toBe(0);
  });

  it('21. rm with a missing parent prints "could not remove path"', async () => {
    const r = await xs('xenstore-rm', '/i21/a/b');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not remove path /i21/a/b');
  });

  it('22. rm -t also removes empty parents', async () => {
    await xs('xenstore-write', '/i22/keep', 'v', '/i22/e1/e2/leaf', 'v');
    expect((await xs('xenstore-rm', '-t', '/i22/e1/e2/leaf')).code).toBe(0);
    expect((await xs('xenstore-list', '/i22')).stdout).toBe('keep\n');
  });
});

describe('permissions through the tools', () => {
  it('23. chmod sets owner and ACL; ls -p prints them', async () => {
    const c = await fx.client();
    await c.demote(5).catch(() => undefined); // a live domain 5 so the entries are not ignored
    await xs('xenstore-write', '/i23', 'v');
    expect((await xs('xenstore-chmod', '/i23', 'n0', 'r5')).code).toBe(0);
    expect((await xs('xenstore-ls', '-p', '/')).stdout).toMatch(/i23 = "v" .*\(n0,r5\)/);
  });

  it('24. chmod with a bad permission string is rejected by the tool', async () => {
    await xs('xenstore-write', '/i24', 'v');
    const r = await xs('xenstore-chmod', '/i24', 'x0');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid permission');
  });

  it('25. chmod of a missing node prints the error', async () => {
    const r = await xs('xenstore-chmod', '/i25/none', 'n0');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such file or directory');
  });

  it('26. chmod -r applies to the whole subtree', async () => {
    await xs('xenstore-write', '/i26/a/b', 'v');
    expect((await xs('xenstore-chmod', '-r', '/i26', 'b0')).code).toBe(0);
    expect((await xs('xenstore-ls', '-p', '/i26')).stdout).toMatch(/b = "v" .*\(b0\)/);
  });

  it('27. an owner that is not a domain gives ENOENT', async () => {
    await xs('xenstore-write', '/i27', 'v');
    const r = await xs('xenstore-chmod', '/i27', 'n4242');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such file or directory');
  });
});

describe('unprivileged domains (demoted connections) seen through the tools', () => {
  let d7: XenstoreClient;
  beforeAll(async () => {
    d7 = await fx.client();
    await d7.demote(7);
    await xs('xenstore-write', '/local/domain/7', '');
    await xs('xenstore-chmod', '/local/domain/7', 'n7', 'r0');
  });

  it('28. a node a domain creates is owned by it, as xenstore-ls -p shows', async () => {
    await d7.write('data/k', 'guest');
    expect((await xs('xenstore-ls', '-p', '/local/domain/7')).stdout).toMatch(/k = "guest" .*\(n7,r0\)/);
  });

  it('29. the domain cannot read what dom0 keeps private; the tools can', async () => {
    await xs('xenstore-write', '/i29/secret', 's');
    await expect(d7.read('/i29/secret')).rejects.toMatchObject({ errnoName: 'EACCES' });
    expect((await xs('xenstore-read', '/i29/secret')).stdout).toBe('s\n');
  });

  it('30. chmod by dom0 grants the domain read access', async () => {
    await xs('xenstore-write', '/i30', 'shared');
    await xs('xenstore-chmod', '/i30', 'n0', 'r7');
    expect((await d7.read('/i30')).toString()).toBe('shared');
    await expect(d7.write('/i30', 'x')).rejects.toMatchObject({ errnoName: 'EACCES' });
  });

  it('31. the node quota stops the domain with ENOSPC while dom0 tools still write', async () => {
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1005; i++) writes.push(d7.write(`q/d${i % 40}/n${i}`, '').catch((e: unknown) => e));
    const results = await Promise.all(writes);
    expect(results.some((r) => (r as { errnoName?: string })?.errnoName === 'ENOSPC')).toBe(true);
    expect((await xs('xenstore-write', '/local/domain/7/q/by-dom0', 'ok')).code).toBe(0);
    expect(fx.daemon.engine.stats.quotaHits).toBeGreaterThan(0);
  });
});

describe('watches through xenstore-watch', () => {
  async function watchWhile(args: string[], act: () => Promise<unknown>) {
    const pending = xs('xenstore-watch', ...args);
    await new Promise((r) => setTimeout(r, 150));
    await act();
    return pending;
  }

  it('32. xenstore-watch prints the registration event, then changes below the path', async () => {
    await xs('xenstore-write', '/i32', '');
    const r = await watchWhile(['-n', '3', '/i32'], async () => {
      await xs('xenstore-write', '/i32/a', '1');
      await xs('xenstore-write', '/i32/b', '2');
    });
    expect(r.stdout).toBe('/i32\n/i32/a\n/i32/b\n');
  });

  it('33. rm fires the watch with the removed path', async () => {
    await xs('xenstore-write', '/i33/x', '1');
    const r = await watchWhile(['-n', '2', '/i33'], () => xs('xenstore-rm', '/i33/x'));
    expect(r.stdout).toBe('/i33\n/i33/x\n');
  });

  it('34. a write in a TS transaction reaches xenstore-watch only at commit', async () => {
    const c = await fx.client();
    const r = await watchWhile(['-n', '2', '/i34'], () =>
      c.transaction(async (tx) => {
        await tx.write('/i34/t', 'v');
      }),
    );
    expect(r.stdout).toBe('/i34\n/i34/t\n');
  });

  it('35. a watch on @introduceDomain sees INTRODUCE from the TS client', async () => {
    const c = await fx.client();
    const r = await watchWhile(['-n', '2', '@introduceDomain'], () => c.introduce(35, 1, 1));
    expect(r.stdout).toBe('@introduceDomain\n@introduceDomain\n');
  });
});
