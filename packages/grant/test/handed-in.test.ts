/**
 * Descriptors handed IN by a hostile tenant (a separate process,
 * build/test/hostile-memfd): mapGrant refuses any region whose size is not
 * sealed, so the tenant cannot shrink it under the mapper and SIGBUS it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEAL, hostGrantDriver, mapGrant } from '../src/index.js';

const PAGE = hostGrantDriver.pageSize;
const helper = join(fileURLToPath(new URL('..', import.meta.url)), 'build', 'test', 'hostile-memfd');

interface Tenant {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
  /** Our own descriptor of the tenant's memfd (opened through /proc/<pid>/fd/<fd>). */
  readonly fd: number;
}

async function withTenant(bytes: number, seals: number, extra: string[], fn: (t: Tenant) => Promise<void> | void): Promise<void> {
  const child = spawn(helper, [String(bytes), String(seals), ...extra]);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let fd = -1;
  try {
    const first = await lines.next();
    const [pid, theirFd] = String(first.value).split(' ');
    fd = openSync(`/proc/${pid}/fd/${theirFd}`, 'r+');
    await fn({ child, lines, fd });
  } finally {
    if (fd >= 0) closeSync(fd);
    child.stdin.end();
    expect(await exited).toBe(0);
  }
}

describe('regions handed in by another process', () => {
  it('refuses an unsealed memfd with GRANT_UNSEALED, naming the seals it lacks', async () => {
    await withTenant(PAGE, 0, [], ({ fd }) => {
      expect(() => mapGrant(fd, { bytes: PAGE, access: 'rw' })).toThrow(
        expect.objectContaining({ code: 'GRANT_UNSEALED', message: expect.stringMatching(/needs F_SEAL_SHRINK\|F_SEAL_GROW\|F_SEAL_SEAL, has no seals/) }),
      );
    });
  });

  it('refuses a memfd sealed against shrinking and growing but without F_SEAL_SEAL', async () => {
    await withTenant(PAGE, SEAL.SHRINK | SEAL.GROW, [], ({ fd }) => {
      expect(() => mapGrant(fd, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_UNSEALED' }));
    });
  });

  it('maps a properly sealed one, and the tenant then cannot shrink it', async () => {
    await withTenant(2 * PAGE, SEAL.SHRINK | SEAL.GROW | SEAL.SEAL, ['shrink'], async ({ child, lines, fd }) => {
      using m = mapGrant(fd, { bytes: 2 * PAGE, access: 'rw' });
      child.stdin.write('shrink\n');
      expect((await lines.next()).value).toMatch(/not permitted/);
      m.buffer[2 * PAGE - 1] = 1; // still there: no SIGBUS
      expect(m.buffer[2 * PAGE - 1]).toBe(1);
    });
  });

  it('refuses a read-only promise on a region the tenant could still write through', async () => {
    await withTenant(PAGE, SEAL.SHRINK | SEAL.GROW | SEAL.SEAL, [], ({ fd }) => {
      expect(() => mapGrant(fd, { bytes: PAGE, access: 'ro' })).toThrow(
        expect.objectContaining({ code: 'GRANT_ACCESS_MISMATCH', message: expect.stringMatching(/F_SEAL_FUTURE_WRITE/) }),
      );
    });
  });
});
