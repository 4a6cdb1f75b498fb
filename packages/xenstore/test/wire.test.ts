import { describe, expect, it } from 'vitest';
import { ArgumentError } from '@vpio/errors';
import { cAtoi, decodeErrorPayload, decodeHeader, decodeRequest, encodeMessage, FrameDecoder, splitStrings } from '../src/wire.js';
import { MESSAGE_TYPES, XS, XS_TYPE_COUNT, messageTypeName } from '../src/protocol.js';
import { XenstoreError } from '../src/xenstore-error.js';

const msg = (type: number, payload: string | Buffer, txId = 0) => ({
  type, reqId: 7, txId, payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload,
});
const errName = (fn: () => unknown): string => {
  try { fn(); } catch (e) { return (e as XenstoreError).errnoName; }
  return 'no error';
};

describe('wire codec', () => {
  it('numbers every Xen 4.17 message type as xs_wire.h does', () => {
    expect(XS_TYPE_COUNT).toBe(23);
    expect(XS.CONTROL).toBe(0);
    expect(XS.WRITE).toBe(11);
    expect(XS.WATCH_EVENT).toBe(15);
    expect(XS.ERROR).toBe(16);
    expect(XS.DIRECTORY_PART).toBe(22);
    expect(MESSAGE_TYPES.map((n) => XS[n])).toEqual([...Array(23).keys()]);
    expect(messageTypeName(23)).toBeUndefined();
  });

  it('encodes xenstore-write /a/b hello byte for byte', () => {
    const buf = encodeMessage(msg(XS.WRITE, '/a/b\0hello'));
    expect(buf.toString('hex')).toBe('0b000000070000000000000' + '00a000000' + Buffer.from('/a/b\0hello').toString('hex'));
    expect(decodeHeader(buf)).toEqual({ type: 11, reqId: 7, txId: 0, len: 10 });
  });

  it('refuses to encode a payload over 4096 bytes', () => {
    expect(() => encodeMessage(msg(XS.WRITE, Buffer.alloc(4097)))).toThrow(ArgumentError);
    expect(encodeMessage(msg(XS.WRITE, Buffer.alloc(4096))).length).toBe(4112);
  });

  it('reassembles messages split at every byte boundary', () => {
    const a = encodeMessage(msg(XS.READ, '/x\0'));
    const b = encodeMessage(msg(XS.DIRECTORY, '/\0'));
    const all = Buffer.concat([a, b]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(out.map((m) => m.type)).toEqual([XS.READ, XS.DIRECTORY]);
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('holds a truncated header back and throws E2BIG for len over 4096', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.alloc(10))).toEqual([]);
    expect(d.pendingBytes).toBe(10);
    const big = Buffer.alloc(16);
    big.writeUInt32LE(4097, 12);
    expect(errName(() => new FrameDecoder().push(big))).toBe('E2BIG');
    big.writeUInt32LE(0xffffffff, 12);
    expect(errName(() => new FrameDecoder().push(big))).toBe('E2BIG');
  });

  it('parses one-argument requests only with exactly one trailing NUL', () => {
    expect(decodeRequest(msg(XS.READ, '/a\0'))).toEqual({ op: 'READ', path: '/a' });
    for (const bad of ['', '/a', '/a\0\0', '/a\0b\0', '\0/a']) {
      expect(errName(() => decodeRequest(msg(XS.READ, bad)))).toBe(bad === '\0/a' ? 'EINVAL' : 'EINVAL');
    }
  });

  it('splits WRITE at the first NUL and keeps NULs in the value', () => {
    const r = decodeRequest(msg(XS.WRITE, '/a\0v\0w'));
    expect(r).toMatchObject({ op: 'WRITE', path: '/a' });
    expect((r as { value: Buffer }).value.toString('latin1')).toBe('v\0w');
    expect(errName(() => decodeRequest(msg(XS.WRITE, '/a')))).toBe('EINVAL');
  });

  it('answers ENOSYS for unknown, removed and daemon-only types', () => {
    for (const t of [XS.WATCH_EVENT, XS.ERROR, XS.RESTRICT, 23, 26, 0xffff, 0xffffffff]) {
      expect(errName(() => decodeRequest(msg(t, 'x\0')))).toBe('ENOSYS');
    }
  });

  it('parses permissions like xs_strings_to_perms and rejects bad ones', () => {
    const r = decodeRequest(msg(XS.SET_PERMS, '/a\0n0\0r5\0w0x10\0b010\0'));
    expect((r as { perms: unknown }).perms).toEqual([
      { access: 'n', domid: 0 }, { access: 'r', domid: 5 }, { access: 'w', domid: 16 }, { access: 'b', domid: 8 },
    ]);
    for (const bad of ['/a\0', '/a\0x5\0', '/a\0r\0', '/a\0r5x\0', '/a\0r0x\0', '/a\0 \0']) {
      expect(errName(() => decodeRequest(msg(XS.SET_PERMS, bad)))).toBe('EINVAL');
    }
  });

  it('requires T or F to end a transaction and exactly two strings to watch (4.17 get_strings counts them all)', () => {
    expect(decodeRequest(msg(XS.TRANSACTION_END, 'T\0'))).toEqual({ op: 'TRANSACTION_END', commit: true });
    expect(errName(() => decodeRequest(msg(XS.TRANSACTION_END, 'X\0')))).toBe('EINVAL');
    expect(errName(() => decodeRequest(msg(XS.WATCH, '/a\0')))).toBe('EINVAL');
    expect(decodeRequest(msg(XS.WATCH, '/a\0tok\0'))).toEqual({ op: 'WATCH', path: '/a', token: 'tok' });
    expect(errName(() => decodeRequest(msg(XS.WATCH, '/a\0tok\0extra\0')))).toBe('EINVAL');
  });

  it('reads numbers with C atoi semantics', () => {
    expect(cAtoi('12abc')).toBe(12);
    expect(cAtoi('  -3')).toBe(-3);
    expect(cAtoi('abc')).toBe(0);
    expect(decodeRequest(msg(XS.GET_DOMAIN_PATH, '5\0'))).toEqual({ op: 'GET_DOMAIN_PATH', domid: 5 });
  });

  it('maps unknown error names to EINVAL as libxenstore does', () => {
    expect(decodeErrorPayload(Buffer.from('ENOENT\0'))).toBe('ENOENT');
    expect(decodeErrorPayload(Buffer.from('EWHATEVER\0'))).toBe('EINVAL');
    expect(splitStrings(Buffer.from('a\0b\0c'))).toEqual({ strings: ['a', 'b'], trailing: Buffer.from('c') });
  });
});
