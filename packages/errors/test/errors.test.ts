import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ErrnoError,
  VpioError,
  errnoName,
  errnoNumber,
  expectInteger,
  expectOneOf,
} from '../src/index.js';

describe('errno mapping', () => {
  it('names an errno whatever its sign', () => {
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(-22)).toBe('EINVAL');
    expect(errnoName(-93)).toBe('EPROTONOSUPPORT');
  });
  it('names an unknown errno by number instead of inventing a name', () => {
    expect(errnoName(9999)).toBe('E#9999');
  });
  it('maps names back to numbers', () => {
    expect(errnoNumber('ENOSPC')).toBe(28);
    expect(errnoNumber('ENOPE')).toBeUndefined();
  });
});

describe('VpioError', () => {
  it('keeps a stable code, the subclass name and the cause', () => {
    const cause = new Error('low');
    const e = new ErrnoError('RING_ATTACH', -71, 'attaching ring', { cause });
    expect(e).toBeInstanceOf(VpioError);
    expect(e.name).toBe('ErrnoError');
    expect(e.code).toBe('RING_ATTACH');
    expect(e.errno).toBe(71);
    expect(e.errnoName).toBe('EPROTO');
    expect(e.message).toBe('attaching ring: EPROTO (protocol error)');
    expect(e.cause).toBe(cause);
  });
});

describe('argument checks', () => {
  it('say which parameter, what was expected and what arrived', () => {
    expect(() => expectInteger('numSlots', 3.5, 64, 4096)).toThrow(
      'numSlots: expected an integer in [64, 4096], got 3.5',
    );
    expect(() => expectInteger('numSlots', '64', 64, 4096)).toThrow('got "64"');
    expect(() => expectOneOf('kind', 'up', ['tx', 'rx'])).toThrow("kind: expected one of 'tx', 'rx', got \"up\"");
    try {
      expectInteger('n', undefined, 0, 1);
    } catch (e) {
      expect(e).toBeInstanceOf(ArgumentError);
      expect((e as ArgumentError).parameter).toBe('n');
      expect((e as ArgumentError).code).toBe('ERR_ARGUMENT');
    }
  });
  it('return the value typed when it is acceptable', () => {
    expect(expectInteger('n', 64, 64, 4096)).toBe(64);
    expect(expectOneOf('kind', 'rx', ['tx', 'rx'] as const)).toBe('rx');
  });
});
