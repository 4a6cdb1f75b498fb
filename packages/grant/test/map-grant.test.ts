import { closeSync, openSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GrantTable, hostGrantDriver, mapGrant } from '../src/index.js';

const PAGE = hostGrantDriver.pageSize;

describe('mapGrant', () => {
  it('maps a read-write grant: both sides see each other’s writes', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: 4 * PAGE, grantee: 1, access: 'rw' });
    using m = mapGrant(g.fd, { bytes: 4 * PAGE, access: 'rw' });
    g.buffer.write('hello', 3 * PAGE);
    expect(m.buffer.toString('utf8', 3 * PAGE, 3 * PAGE + 5)).toBe('hello');
    m.buffer[0] = 1;
    expect(g.buffer[0]).toBe(1);
  });

  it('maps a read-only grant read-only and sees the owner’s later writes', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'ro' });
    using m = mapGrant(g.fd, { bytes: PAGE, access: 'ro' });
    g.buffer[100] = 33;
    expect(m.buffer[100]).toBe(33);
  });

  it('refuses to map a read-only grant writable (GRANT_ACCESS_MISMATCH, EPERM)', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'ro' });
    expect(() => mapGrant(g.fd, { bytes: PAGE, access: 'rw' })).toThrow(
      expect.objectContaining({ code: 'GRANT_ACCESS_MISMATCH', errnoName: 'EPERM' }),
    );
  });

  it('refuses a size that differs from the promise (GRANT_SIZE_MISMATCH)', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: 2 * PAGE, grantee: 1, access: 'rw' });
    expect(() => mapGrant(g.fd, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_SIZE_MISMATCH', errnoName: 'EMSGSIZE' }));
    expect(() => mapGrant(g.fd, { bytes: 3 * PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_SIZE_MISMATCH' }));
  });

  it('refuses a regular file and a bad descriptor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-grant-'));
    try {
      const path = join(dir, 'region');
      writeFileSync(path, Buffer.alloc(PAGE));
      const fd = openSync(path, 'r+');
      try {
        expect(() => mapGrant(fd, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_NOT_MEMFD' }));
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => mapGrant(999_999, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_BAD_FD' }));
  });

  it('validates its arguments', () => {
    expect(() => mapGrant(-1, { bytes: PAGE, access: 'rw' })).toThrow(/fd: expected an integer/);
    expect(() => mapGrant(3, { bytes: 0, access: 'rw' })).toThrow(/options.bytes/);
    expect(() => mapGrant(3, { bytes: PAGE, access: 'x' as 'ro' })).toThrow(/options.access/);
  });

  it('close unmaps: views become empty, buffer throws GRANT_MAPPING_CLOSED, close is idempotent', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    const m = mapGrant(g.fd, { bytes: PAGE, access: 'rw' });
    const view = m.buffer;
    m.close();
    expect(m.closed).toBe(true);
    expect(view.length).toBe(0);
    expect(() => m.buffer).toThrow(expect.objectContaining({ code: 'GRANT_MAPPING_CLOSED' }));
    m.close();
  });
});
