import { openSync, closeSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIRST_GRANT_REF, GrantTable, SEAL, hostGrantDriver, mapGrant, sealsOf } from '../src/index.js';
import { openFdCount } from './fds.js';

const PAGE = hostGrantDriver.pageSize;

describe('GrantTable.grantRegion', () => {
  it('grants a sealed region and gives the owner a writable buffer of that size', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: 2 * PAGE, grantee: 3, access: 'rw' });
    expect(g).toMatchObject({ bytes: 2 * PAGE, grantee: 3, access: 'rw', state: 'active' });
    expect(g.buffer.length).toBe(2 * PAGE);
    g.buffer[5] = 7;
    const seals = sealsOf(g.fd);
    expect(seals & (SEAL.SHRINK | SEAL.GROW | SEAL.SEAL)).toBe(SEAL.SHRINK | SEAL.GROW | SEAL.SEAL);
    expect(seals & (SEAL.WRITE | SEAL.FUTURE_WRITE)).toBe(0);
  });

  it('seals a read-only region with F_SEAL_FUTURE_WRITE and keeps the owner mapping writable', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 3, access: 'ro' });
    expect(sealsOf(g.fd) & SEAL.FUTURE_WRITE).toBe(SEAL.FUTURE_WRITE);
    g.buffer.fill(0x42);
    expect(g.buffer[PAGE - 1]).toBe(0x42);
  });

  it('hands out small refs from 8 up, never reusing one before its grant is released', () => {
    using table = new GrantTable();
    const a = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    const b = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    expect([a.ref, b.ref]).toEqual([FIRST_GRANT_REF, FIRST_GRANT_REF + 1]);
    a.revoke();
    const c = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    expect(c.ref).toBe(FIRST_GRANT_REF + 2);
    a.release();
    const d = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    expect(d.ref).toBe(a.ref);
    expect(table.get(d.ref)).toBe(d);
  });

  it('rejects bad arguments at the boundary, naming the parameter', () => {
    using table = new GrantTable();
    expect(() => table.grantRegion({ bytes: 100, grantee: 1, access: 'rw' })).toThrow(/options.bytes: expected a multiple of the page size/);
    expect(() => table.grantRegion({ bytes: 0, grantee: 1, access: 'rw' })).toThrow(/options.bytes/);
    expect(() => table.grantRegion({ bytes: PAGE, grantee: 40000, access: 'rw' })).toThrow(/options.grantee: expected an integer in \[0, 32751\]/);
    expect(() => table.grantRegion({ bytes: PAGE, grantee: 1, access: 'wr' as 'rw' })).toThrow(/options.access: expected one of 'rw', 'ro'/);
    expect(() => new GrantTable({ limits: { maxGrants: 0 } })).toThrow(/maxGrants/);
  });
});

describe('per-owner limits', () => {
  it('refuses a grant past maxGrants with GRANT_LIMIT_GRANTS until one is released', () => {
    using table = new GrantTable({ domid: 4, limits: { maxGrants: 2 } });
    const a = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' });
    expect(() => table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' })).toThrow(
      expect.objectContaining({ code: 'GRANT_LIMIT_GRANTS', message: expect.stringMatching(/domain 4 holds 2 .* limit is 2/) }),
    );
    a.revoke(); // revoked memory is still held
    expect(() => table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_LIMIT_GRANTS' }));
    a.release();
    expect(table.grantRegion({ bytes: PAGE, grantee: 1, access: 'rw' }).state).toBe('active');
  });

  it('refuses a grant past maxBytes with GRANT_LIMIT_BYTES', () => {
    using table = new GrantTable({ limits: { maxBytes: 3 * PAGE } });
    table.grantRegion({ bytes: 2 * PAGE, grantee: 1, access: 'ro' });
    expect(() => table.grantRegion({ bytes: 2 * PAGE, grantee: 1, access: 'ro' })).toThrow(expect.objectContaining({ code: 'GRANT_LIMIT_BYTES' }));
    expect(table.grantRegion({ bytes: PAGE, grantee: 1, access: 'ro' }).bytes).toBe(PAGE);
    expect(table.usage).toEqual({ grants: 2, bytes: 3 * PAGE });
  });
});

describe('lifecycle: active → revoked → released', () => {
  it('revoke closes the descriptor (no new mapping) but keeps the memory for live mappings', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 2, access: 'rw' });
    using m = mapGrant(g.fd, { bytes: PAGE, access: 'rw' });
    const fd = g.fd;
    g.revoke();
    expect(g.state).toBe('revoked');
    expect(() => g.fd).toThrow(expect.objectContaining({ code: 'GRANT_REVOKED' }));
    expect(() => mapGrant(fd, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_BAD_FD' }));
    // the grantee's existing mapping and the owner's still share memory
    m.buffer[9] = 99;
    expect(g.buffer[9]).toBe(99);
    expect(table.usage.grants).toBe(1);
  });

  it('release unmaps the owner buffer (views become empty), frees the ref and the bytes', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 2, access: 'rw' });
    const view = g.buffer;
    g.release();
    expect(g.state).toBe('released');
    expect(view.length).toBe(0);
    expect(() => g.buffer).toThrow(expect.objectContaining({ code: 'GRANT_RELEASED' }));
    expect(() => table.get(g.ref)).toThrow(expect.objectContaining({ code: 'GRANT_NO_SUCH_REF' }));
    expect(table.usage).toEqual({ grants: 0, bytes: 0 });
    g.release(); // idempotent
  });

  it('a hold keeps the owner mapping through release() until the last hold is dropped', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 2, access: 'rw' });
    const view = g.buffer;
    const h1 = g.hold();
    const h2 = g.hold();
    expect(g.holds).toBe(2);
    g.release(); // the grantee died while native code (the switch) still uses the memory
    expect(g.state).toBe('released');
    expect(() => g.buffer).toThrow(expect.objectContaining({ code: 'GRANT_RELEASED' }));
    expect(() => g.hold()).toThrow(expect.objectContaining({ code: 'GRANT_RELEASED' }));
    view[7] = 42; // still mapped
    expect(view.length).toBe(PAGE);
    expect(view[7]).toBe(42);
    expect(table.usage).toEqual({ grants: 1, bytes: PAGE }); // the memory is still held
    h1.drop();
    h1.drop(); // idempotent: one hold is dropped once
    expect(view.length).toBe(PAGE);
    h2[Symbol.dispose]();
    expect(view.length).toBe(0); // unmapped with the last hold
    expect(table.usage).toEqual({ grants: 0, bytes: 0 });
    expect(() => table.get(g.ref)).toThrow(expect.objectContaining({ code: 'GRANT_NO_SUCH_REF' }));
  });

  it('releaseGrantee releases every grant to that domain and no other', () => {
    using table = new GrantTable();
    table.grantRegion({ bytes: PAGE, grantee: 5, access: 'rw' });
    table.grantRegion({ bytes: PAGE, grantee: 5, access: 'ro' });
    const other = table.grantRegion({ bytes: PAGE, grantee: 6, access: 'rw' });
    expect(table.revokeGrantee(5)).toBe(2);
    expect(table.releaseGrantee(5)).toBe(2);
    expect(table.list()).toEqual([other]);
    expect(other.state).toBe('active');
  });

  it('close releases everything and refuses new grants', () => {
    const table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 5, access: 'rw' });
    table.close();
    expect(g.state).toBe('released');
    expect(() => table.grantRegion({ bytes: PAGE, grantee: 5, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_TABLE_CLOSED' }));
  });
});

describe('descriptor accounting', () => {
  it('leaks no descriptor over grant, map, revoke, release and close', () => {
    const before = openFdCount();
    const table = new GrantTable();
    for (let i = 0; i < 100; i++) {
      const g = table.grantRegion({ bytes: PAGE, grantee: 1 + (i % 3), access: i % 2 ? 'ro' : 'rw' });
      const m = mapGrant(g.fd, { bytes: PAGE, access: g.access });
      if (i % 3 === 0) g.revoke();
      else if (i % 3 === 1) g.release();
      m.close();
    }
    expect(openFdCount()).toBe(before + table.list().filter((g) => g.state === 'active').length);
    table.close();
    expect(openFdCount()).toBe(before);
  });

  it('a failed mapGrant leaves no descriptor behind', () => {
    const fd = openSync('/dev/null', 'r');
    const before = openFdCount();
    expect(() => mapGrant(fd, { bytes: PAGE, access: 'ro' })).toThrow();
    expect(openFdCount()).toBe(before);
    closeSync(fd);
  });

  it('a read-only grant cannot be written through a read-write reopen of its descriptor', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: PAGE, grantee: 1, access: 'ro' });
    const fd2 = openSync(`/proc/self/fd/${g.fd}`, 'r+');
    try {
      expect(() => writeSync(fd2, Buffer.from('x'), 0, 1, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
      expect(() => mapGrant(fd2, { bytes: PAGE, access: 'rw' })).toThrow(expect.objectContaining({ code: 'GRANT_ACCESS_MISMATCH' }));
    } finally {
      closeSync(fd2);
    }
  });
});
