// Behaviour matched to Xen 4.17.7's C xenstored (tools/xenstore/ at
// RELEASE-4.17.7) where the differential test (xen/tests/xenstore-diff.sh)
// or reading that source showed our daemon answering differently. Each
// case names the C function it follows.
import { describe, expect, it } from 'vitest';
import { engineHarness } from './helpers.js';
import { cAtoi } from '../src/wire.js';
import { formatPerm, parsePerm } from '../src/permissions.js';
import { directoryPart } from '../src/store-ops.js';
import { NodeTree } from '../src/node-tree.js';
import { QUOTA_DEFAULTS } from '../src/protocol.js';

const txid = (reply: string) => Number(reply.replace('\0', ''));

describe('transactions read the store as it is now (xenstored_transaction.c)', () => {
  it('sees a write another connection made after TRANSACTION_START to a node it had not looked at, and commits', () => {
    const { open } = engineHarness();
    const a = open();
    const b = open();
    a.call('WRITE', '/t/k\0before');
    const id = txid(a.call('TRANSACTION_START', '\0'));
    b.call('WRITE', '/t/k\0outside');
    b.call('WRITE', '/t/late\0l');
    expect(a.call('READ', '/t/k\0', id)).toBe('outside');
    expect(a.call('READ', '/t/late\0', id)).toBe('l');
    expect(a.call('DIRECTORY', '/t\0', id)).toBe('k\0late\0');
    a.call('WRITE', '/t/k\0mine', id);
    expect(a.call('TRANSACTION_END', 'T\0', id)).toBe('OK\0');
    expect(b.call('READ', '/t/k\0')).toBe('mine');
  });

  it('keeps its own copy of a node once looked at, and its own writes over later outside ones elsewhere', () => {
    const { open } = engineHarness();
    const a = open();
    const b = open();
    a.call('WRITE', '/u/x\0x0');
    a.call('WRITE', '/u/y\0y0');
    const id = txid(a.call('TRANSACTION_START', '\0'));
    a.call('WRITE', '/u/x\0x1', id);
    b.call('WRITE', '/u/y\0y1');
    expect(a.call('READ', '/u/x\0', id)).toBe('x1');
    expect(a.call('READ', '/u/y\0', id)).toBe('y1');
    b.call('WRITE', '/u/x\0x2');
    expect(a.call('READ', '/u/x\0', id)).toBe('x1');
    expect(a.call('TRANSACTION_END', 'T\0', id)).toBe('EAGAIN');
    expect(a.call('READ', '/u/x\0')).toBe('x2');
  });
});

describe('watch events in C order (xenstored_watch.c, fire_watches)', () => {
  it('queues a change\'s events before its reply; WATCH\'s own event after its OK', () => {
    const { open } = engineHarness();
    const a = open();
    a.call('WATCH', '/o\0t\0');
    expect(a.order()).toEqual(['reply', 'event']);
    a.call('WRITE', '/o/k\0v');
    expect(a.order()).toEqual(['event', 'reply']);
    const id = txid(a.call('TRANSACTION_START', '\0'));
    a.call('WRITE', '/o/k\0w', id);
    a.order();
    a.call('TRANSACTION_END', 'T\0', id);
    expect(a.order()).toEqual(['event', 'reply']);
  });

  it('fires an RM\'s removed descendants bottom-up and the removed node last', () => {
    const { open } = engineHarness();
    const a = open();
    a.call('WRITE', '/r/x/y/z\0v');
    a.call('WRITE', '/r/x/w\0v');
    a.call('WATCH', '/r\0up\0');
    a.call('WATCH', '/r/x/y\0y\0');
    a.call('WATCH', '/r/x/w\0w\0');
    a.call('WATCH', '/r/x/y/z\0z\0');
    a.ev();
    a.call('RM', '/r/x\0');
    expect(a.ev()).toEqual(['/r/x/y/z\0z\0', '/r/x/y\0y\0', '/r/x/w\0w\0', '/r/x\0up\0']);
  });

  it('drops an event identical to one the same request already queued (send_event)', () => {
    const { open } = engineHarness();
    const a = open();
    const b = open();
    a.call('WATCH', '/dup\0t\0');
    a.call('WATCH', '/dup/a\0t\0');
    a.ev();
    b.call('WRITE', '/dup/a/b\0v');
    expect(a.ev()).toEqual(['/dup/a/b\0t\0']);
  });

  it('fires a commit once per changed node, in the order the transaction first looked at them', () => {
    const { open } = engineHarness();
    const a = open();
    const b = open();
    b.call('WATCH', '/c\0w\0');
    b.ev();
    const id = txid(a.call('TRANSACTION_START', '\0'));
    expect(a.call('READ', '/c/p\0', id)).toBe('ENOENT');
    a.call('WRITE', '/c/q\0' + '1', id);
    a.call('WRITE', '/c/p\0' + '1', id);
    a.call('WRITE', '/c/q\0' + '2', id);
    expect(b.ev()).toEqual([]);
    a.call('TRANSACTION_END', 'T\0', id);
    expect(b.ev()).toEqual(['/c/p\0w\0', '/c/q\0w\0']);
  });

  it('fires a committed RM as C queued it: the removed node for watches above, descendants only for watches on them', () => {
    const { open } = engineHarness();
    const a = open();
    const b = open();
    a.call('WRITE', '/cr/x/y\0v');
    b.call('WATCH', '/cr\0up\0');
    b.call('WATCH', '/cr/x/y\0y\0');
    b.ev();
    const id = txid(a.call('TRANSACTION_START', '\0'));
    a.call('RM', '/cr/x\0', id);
    a.call('TRANSACTION_END', 'T\0', id);
    expect(b.ev()).toEqual(['/cr/x\0up\0', '/cr/x/y\0y\0']);
  });
});

describe('domain requests (xenstored_domain.c)', () => {
  it('answers T to IS_DOMAIN_INTRODUCED for DOMID_SELF (0x7ff0)', () => {
    const { open } = engineHarness();
    const a = open();
    expect(a.call('IS_DOMAIN_INTRODUCED', '32752\0')).toBe('T\0');
    expect(a.call('IS_DOMAIN_INTRODUCED', '32751\0')).toBe('F\0');
  });

  it('refuses RESUME of domain 0 with EINVAL before looking it up (onearg_domain)', () => {
    const { open } = engineHarness();
    const a = open();
    expect(a.call('RESUME', '0\0')).toBe('EINVAL');
    expect(a.call('RESUME', 'abc\0')).toBe('EINVAL');
    expect(a.call('RESUME', '5\0')).toBe('ENOENT');
  });

  it('reads domids as glibc atoi does: 64-bit clamp, then the low 32 bits', () => {
    expect(cAtoi('99999999999999')).toBe(276447231);
    expect(cAtoi('4294967301')).toBe(5);
    expect(cAtoi('2147483648')).toBe(-2147483648);
    expect(cAtoi('99999999999999999999999')).toBe(-1);
    expect(cAtoi('-99999999999999999999999')).toBe(0);
    expect(cAtoi(' -7x')).toBe(-7);
    const { open } = engineHarness();
    expect(open().call('GET_DOMAIN_PATH', '99999999999999\0')).toBe('/local/domain/276447231\0');
  });
});

describe('permissions and directories (xenstored_core.c, xs_lib.c)', () => {
  it('prints perm domids as signed ints, as xs_perm_to_string', () => {
    expect(formatPerm(parsePerm('r-1'))).toBe('r-1');
    expect(formatPerm(parsePerm('b2147483648'))).toBe('b-2147483648');
    expect(formatPerm(parsePerm('n0x10'))).toBe('n16');
    const { open } = engineHarness();
    const a = open();
    a.call('WRITE', '/p\0v');
    expect(a.call('SET_PERMS', '/p\0n0\0r-1\0')).toBe('OK\0');
    expect(a.call('GET_PERMS', '/p\0')).toBe('n0\0r-1\0');
  });

  it('fills a DIRECTORY_PART chunk up to exactly 4096 bytes (send_directory_part)', () => {
    const tree = NodeTree.initial();
    const ctx = { caller: { domid: 0 }, quotas: QUOTA_DEFAULTS, domainExists: () => true, onQuota: () => undefined };
    tree.put('/big', { value: Buffer.alloc(0), perms: [{ access: 'n', domid: 0 }] });
    // Names filling the first chunk to exactly 4096 bytes with a 2-digit generation, then one more.
    const genLen = 3;
    const room = 4096 - genLen - 1;
    const names: string[] = [];
    let used = 0;
    while (room - used > 200) {
      const name = `n${names.length}`.padEnd(99, 'x');
      names.push(name);
      used += name.length + 1;
    }
    names.push('l'.padEnd(room - used - 1, 'y'));
    names.push('tail');
    for (const n of names) tree.put(`/big/${n}`, { value: Buffer.alloc(0), perms: [{ access: 'n', domid: 0 }] });
    const gen = tree.get('/big')?.generation;
    expect(`${gen}\0`.length).toBe(genLen);
    const first = directoryPart(tree, ctx, '/big', 0);
    expect(first.length).toBe(4095);
    expect(first.toString('latin1').split('\0').slice(1, -1)).toEqual(names.slice(0, -1));
    expect(directoryPart(tree, ctx, '/big', room).toString('latin1')).toBe(`${gen}\0tail\0\0`);
  });

  it('ends CONTROL help with a NUL, as do_control_help', () => {
    const { open } = engineHarness();
    expect(open().call('CONTROL', 'help\0').endsWith('\n\0')).toBe(true);
  });
});
