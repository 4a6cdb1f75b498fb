// The pure request processor: tree, paths, permissions, transactions,
// watches, domains, control and quotas, without sockets.
import { describe, expect, it } from 'vitest';
import { engineHarness as setup } from './helpers.js';

describe('tree and paths', () => {
  it('starts with /, /tool and /tool/xenstored owned by dom0', () => {
    const { open } = setup();
    const a = open();
    expect(a.call('DIRECTORY', '/\0')).toBe('tool\0');
    expect(a.call('GET_PERMS', '/tool/xenstored\0')).toBe('n0\0');
  });

  it('creates missing parents on write with empty values and keeps NULs in values', () => {
    const { open } = setup();
    const a = open();
    expect(a.call('WRITE', '/a/b/c\0x\0y')).toBe('OK\0');
    expect(a.call('READ', '/a/b\0')).toBe('');
    expect(a.call('READ', '/a/b/c\0')).toBe('x\0y');
    expect(a.call('DIRECTORY', '/a/b/c\0')).toBe('');
  });

  it('rejects bad characters, //, trailing / and over-long paths with EINVAL', () => {
    const { open } = setup();
    const a = open();
    for (const p of ['/a b', '/a//b', '/a/', '', '/a.b', '@foo', `/${'x'.repeat(2048)}`]) {
      expect(a.call('WRITE', `${p}\0v`)).toBe('EINVAL');
    }
    expect(a.call('WRITE', `/${'x'.repeat(2047)}\0v`)).toBe('OK\0');
    expect(a.call('WRITE', `/local/domain/3/${'y'.repeat(2048)}\0v`)).toBe('OK\0');
  });

  it('resolves relative paths under /local/domain/<domid>', () => {
    const { open } = setup();
    const a = open();
    a.call('WRITE', 'rel/k\0v');
    expect(a.call('READ', '/local/domain/0/rel/k\0')).toBe('v');
  });

  it('removes recursively, accepts a missing node under an existing parent, refuses /', () => {
    const { open } = setup();
    const a = open();
    a.call('WRITE', '/r/a/b\0v');
    expect(a.call('RM', '/r/nope\0')).toBe('OK\0');
    expect(a.call('RM', '/nope/nope\0')).toBe('ENOENT');
    expect(a.call('RM', '/r\0')).toBe('OK\0');
    expect(a.call('READ', '/r/a/b\0')).toBe('ENOENT');
    expect(a.call('RM', '/\0')).toBe('EINVAL');
  });

  it('serves DIRECTORY_PART in chunks ending with an extra NUL', () => {
    const { open } = setup();
    const a = open();
    for (let i = 0; i < 300; i++) a.call('WRITE', `/big/child-number-${String(i).padStart(4, '0')}\0`);
    expect(a.call('DIRECTORY', '/big\0')).toBe('E2BIG');
    const names: string[] = [];
    let offset = 0;
    let gen = '';
    for (;;) {
      const r = a.call('DIRECTORY_PART', `/big\0${offset}\0`);
      const [g] = r.split('\0');
      gen ||= g as string;
      expect(g).toBe(gen);
      const body = r.slice((g as string).length + 1);
      if (body.endsWith('\0\0') || body === '\0') {
        names.push(...body.split('\0').filter(Boolean));
        break;
      }
      names.push(...body.split('\0').filter(Boolean));
      offset += body.length;
    }
    expect(names.length).toBe(300);
    expect(a.call('DIRECTORY_PART', '/big\x00999999\0')).toBe(`${gen}\0\0`);
  });
});

describe('permissions', () => {
  it('lets the owner and dom0 in, others by ACL entry or the owner default', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    const d6 = open(6);
    const d7 = open(7);
    d0.call('WRITE', '/p\0v');
    d0.call('SET_PERMS', '/p\0n5\0r6\0');
    expect(d5.call('READ', '/p\0')).toBe('v');
    expect(d6.call('READ', '/p\0')).toBe('v');
    expect(d6.call('WRITE', '/p\0x')).toBe('EACCES');
    expect(d7.call('READ', '/p\0')).toBe('EACCES');
    expect(d0.call('READ', '/p\0')).toBe('v');
  });

  it('hides existence: EACCES instead of ENOENT when the parent is unreadable', () => {
    const { open } = setup();
    const d0 = open();
    d0.call('WRITE', '/h/x\0v');
    const d5 = open(5);
    expect(d5.call('READ', '/h/nope\0')).toBe('EACCES');
    d0.call('SET_PERMS', '/h\0n0\0r5\0');
    expect(d5.call('READ', '/h/nope\0')).toBe('ENOENT');
  });

  it('makes unprivileged creators own what they create, inheriting the ACL', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    open(9);
    d0.call('MKDIR', '/local/domain/5\0');
    d0.call('SET_PERMS', '/local/domain/5\0n5\0r0\0');
    d0.call('MKDIR', '/shared\0');
    d0.call('SET_PERMS', '/shared\0w0\0r9\0');
    expect(d5.call('WRITE', 'data/x\0v')).toBe('OK\0');
    expect(d5.call('GET_PERMS', 'data/x\0')).toBe('n5\0r0\0');
    expect(d5.call('WRITE', '/shared/a/b\0v')).toBe('OK\0');
    expect(d0.call('GET_PERMS', '/shared/a/b\0')).toBe('w5\0r9\0');
  });

  it('lets only owners set perms and only dom0 change the owner', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    const d6 = open(6);
    d0.call('WRITE', '/o\0v');
    d0.call('SET_PERMS', '/o\0n5\0b6\0');
    expect(d6.call('SET_PERMS', '/o\0n6\0')).toBe('EACCES');
    expect(d5.call('SET_PERMS', '/o\0r5\0')).toBe('OK\0');
    expect(d5.call('SET_PERMS', '/o\0n6\0')).toBe('EPERM');
    expect(d0.call('SET_PERMS', '/o\0n6\0')).toBe('OK\0');
  });

  it('refuses an owner domain that does not exist and ignores unknown ACL domains', () => {
    const { open } = setup();
    const d0 = open();
    d0.call('WRITE', '/u\0v');
    expect(d0.call('SET_PERMS', '/u\0n42\0')).toBe('ENOENT');
    expect(d0.call('SET_PERMS', '/u\0n0\0r42\0')).toBe('OK\0');
    const d42 = open(42);
    expect(d42.call('READ', '/u\0')).toBe('EACCES');
  });
});

describe('transactions', () => {
  it('isolates writes until commit and discards them on abort', () => {
    const { open } = setup();
    const a = open();
    a.call('WRITE', '/t\0a');
    const id = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    expect(id).toBe(1);
    a.call('WRITE', '/t\0b', id);
    expect(a.call('READ', '/t\0', id)).toBe('b');
    expect(a.call('READ', '/t\0')).toBe('a');
    expect(a.call('TRANSACTION_END', 'T\0', id)).toBe('OK\0');
    expect(a.call('READ', '/t\0')).toBe('b');
    const id2 = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    a.call('RM', '/t\0', id2);
    expect(a.call('TRANSACTION_END', 'F\0', id2)).toBe('OK\0');
    expect(a.call('READ', '/t\0')).toBe('b');
    expect(a.call('TRANSACTION_END', 'T\0', id2)).toBe('ENOENT');
  });

  it('fails the commit with EAGAIN when a node it read changed (test-xenstore "ta err")', () => {
    const { open } = setup();
    const a = open();
    const b = open();
    a.call('WRITE', '/e\0a');
    const id = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    expect(a.call('READ', '/e\0', id)).toBe('a');
    b.call('WRITE', '/e\0b');
    expect(a.call('READ', '/e\0', id)).toBe('a');
    a.call('WRITE', '/e\0c', id);
    expect(a.call('TRANSACTION_END', 'T\0', id)).toBe('EAGAIN');
    expect(a.call('READ', '/e\0')).toBe('b');
  });

  it('looks up the tx_id of TRANSACTION_START first: ENOENT when unknown, EBUSY inside a transaction (4.17)', () => {
    const { open } = setup();
    const a = open();
    expect(a.call('TRANSACTION_START', '\0', 5)).toBe('ENOENT');
    const id = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    expect(a.call('TRANSACTION_START', '\0', id)).toBe('EBUSY');
    expect(a.call('READ', '/\0', 99)).toBe('ENOENT');
    expect(a.call('TRANSACTION_END', 'T\0', 0)).toBe('ENOENT');
  });

  it('checks privilege, then the tx_id, then the arguments (process_message order); only WATCH/UNWATCH ignore tx_id', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    expect(d5.call('CONTROL', '')).toBe('EACCES');
    expect(d5.call('INTRODUCE', 'x\0', 77)).toBe('EACCES');
    expect(d0.call('GET_DOMAIN_PATH', '3\0', 77)).toBe('ENOENT');
    expect(d0.call('RESET_WATCHES', '', 77)).toBe('ENOENT');
    expect(d0.call('READ', '', 77)).toBe('ENOENT');
    expect(d0.call('WATCH', '/w\0t\0', 77)).toBe('OK\0');
    expect(d0.call('UNWATCH', '/w\0t\0', 77)).toBe('OK\0');
  });
});

describe('watches', () => {
  it('fires once on registration, then on writes at or below the path, not on reads', () => {
    const { open } = setup();
    const a = open();
    const b = open();
    expect(a.call('WATCH', '/w\0tok\0')).toBe('OK\0');
    expect(a.ev()).toEqual(['/w\0tok\0']);
    b.call('WRITE', '/w/k\0v');
    expect(a.ev()).toEqual(['/w/k\0tok\0']);
    b.call('READ', '/w/k\0');
    b.call('WRITE', '/other\0v');
    expect(a.ev()).toEqual([]);
    expect(a.call('WATCH', '/w\0tok\0')).toBe('EEXIST');
    expect(a.call('UNWATCH', '/w\0nope\0')).toBe('ENOENT');
  });

  it('reports rm to watchers above and exactly on removed descendants', () => {
    const { open } = setup();
    const a = open();
    a.call('WRITE', '/d/x/y\0v');
    a.call('WATCH', '/\0root\0');
    a.call('WATCH', '/d/x/y\0leaf\0');
    a.ev();
    a.call('RM', '/d\0');
    expect(a.ev().sort()).toEqual(['/d\0root\0', '/d/x/y\0leaf\0']);
  });

  it('delays transaction events until commit and drops them on abort', () => {
    const { open } = setup();
    const a = open();
    const w = open();
    w.call('WATCH', '/q\0t\0');
    w.ev();
    const id = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    a.call('WRITE', '/q/1\0v', id);
    expect(w.ev()).toEqual([]);
    a.call('TRANSACTION_END', 'T\0', id);
    expect(w.ev()).toEqual(['/q/1\0t\0']);
    const id2 = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    a.call('WRITE', '/q/2\0v', id2);
    a.call('TRANSACTION_END', 'F\0', id2);
    expect(w.ev()).toEqual([]);
  });

  it('reports relative watches with relative paths and hides unreadable nodes', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    d0.call('MKDIR', '/local/domain/5\0');
    d0.call('SET_PERMS', '/local/domain/5\0n5\0');
    d0.call('MKDIR', '/secret\0');
    d5.call('WATCH', 'dev\0r\0');
    d5.call('WATCH', '/secret\0s\0');
    expect(d5.ev()).toEqual(['dev\0r\0', '/secret\0s\0']);
    d0.call('WRITE', '/local/domain/5/dev/state\0' + '1');
    d0.call('WRITE', '/secret/k\0v');
    expect(d5.ev()).toEqual(['dev/state\0r\0']);
  });

  it('sends @introduceDomain and @releaseDomain to privileged watchers only', () => {
    const { open } = setup();
    const d0 = open();
    const d5 = open(5);
    d0.call('WATCH', '@introduceDomain\0i\0');
    d0.call('WATCH', '@releaseDomain\0r\0');
    d5.call('WATCH', '@releaseDomain\0r5\0');
    d0.ev();
    d5.ev();
    expect(d0.call('INTRODUCE', '7\0' + '123\0' + '4\0')).toBe('OK\0');
    expect(d0.ev()).toEqual(['@introduceDomain\0i\0']);
    expect(d0.call('IS_DOMAIN_INTRODUCED', '7\0')).toBe('T\0');
    expect(d0.call('RELEASE', '7\0')).toBe('OK\0');
    expect(d0.ev()).toEqual(['@releaseDomain\0r\0']);
    expect(d5.ev()).toEqual([]);
    expect(d0.call('RELEASE', '7\0')).toBe('ENOENT');
    expect(d0.call('RELEASE', '0\0')).toBe('EINVAL');
    expect(d0.call('INTRODUCE', '8\0' + '1\0' + '0\0')).toBe('EINVAL');
  });

  it('refuses a third WATCH string (the depth of newer Xen) and DIRECTORY_PART without exactly two NULs, as 4.17', () => {
    const { open } = setup();
    const a = open();
    expect(a.call('WATCH', '/w\0t\0' + '1\0')).toBe('EINVAL');
    expect(a.call('UNWATCH', '/w\0t\0' + '1\0')).toBe('EINVAL');
    expect(a.call('DIRECTORY_PART', '/\0' + '0\0' + 'x\0')).toBe('EINVAL');
    expect(a.call('DIRECTORY_PART', '/\0' + '0\0')).toMatch(/^\d+\0tool\0\0$/);
  });

  it('drops watches and transactions on RESET_WATCHES', () => {
    const { open } = setup();
    const a = open();
    a.call('WATCH', '/z\0t\0');
    const id = Number(a.call('TRANSACTION_START', '\0').replace('\0', ''));
    expect(a.call('RESET_WATCHES', '')).toBe('OK\0');
    a.ev();
    a.call('WRITE', '/z\0v');
    expect(a.ev()).toEqual([]);
    expect(a.call('READ', '/z\0', id)).toBe('ENOENT');
  });
});

describe('domains and control', () => {
  it('releases a domain: its nodes go, its ACL entries stay but are ignored, its connections close', () => {
    const { open } = setup();
    const d0 = open();
    d0.call('INTRODUCE', '5\0' + '1\0' + '1\0');
    d0.call('MKDIR', '/local/domain/5\0');
    d0.call('SET_PERMS', '/local/domain/5\0n5\0');
    d0.call('WRITE', '/pub\0v');
    d0.call('SET_PERMS', '/pub\0n0\0r5\0');
    const d5 = open(5);
    d0.call('RELEASE', '5\0');
    expect(d0.call('READ', '/local/domain/5\0')).toBe('ENOENT');
    expect(d0.call('GET_PERMS', '/pub\0')).toBe('n0\0r5\0');
    expect(d5.isClosed()).toBe(true);
    // A new domain 5 does not inherit the old one's entry (chk_domain_generation()).
    d0.call('INTRODUCE', '5\0' + '1\0' + '1\0');
    const again = open(5);
    expect(again.call('READ', '/pub\0')).toBe('EACCES');
  });

  it('keeps privileged operations for dom0 and answers GET_DOMAIN_PATH to anyone', () => {
    const { open } = setup();
    const d5 = open(5);
    for (const [t, p] of [['INTRODUCE', '6\0' + '1\0' + '1\0'], ['RELEASE', '6\0'], ['IS_DOMAIN_INTRODUCED', '6\0'], ['CONTROL', 'check\0'], ['SET_TARGET', '5\0' + '6\0'], ['RESUME', '5\0']] as const) {
      expect(d5.call(t, p)).toBe('EACCES');
    }
    expect(d5.call('GET_DOMAIN_PATH', '12\0')).toBe('/local/domain/12\0');
  });

  it('demotes a connection one way and refuses unknown control commands with EINVAL', () => {
    const { open } = setup();
    const a = open();
    expect(a.call('CONTROL', 'help\0')).toContain('vpio-demote');
    expect(a.call('CONTROL', 'frobnicate\0')).toBe('EINVAL');
    expect(a.call('CONTROL', 'vpio-demote\0' + '0\0')).toBe('EINVAL');
    expect(a.call('CONTROL', 'vpio-demote\0' + '32752\0')).toBe('EINVAL');
    expect(a.call('CONTROL', 'vpio-demote\0' + '9\0')).toBe('OK\0');
    expect(a.conn.domid).toBe(9);
    expect(a.call('CONTROL', 'vpio-demote\0' + '0\0')).toBe('EACCES');
    expect(a.call('WRITE', '/x\0v')).toBe('EACCES');
  });
});

describe('quotas (Xen 4.17 defaults, unprivileged only)', () => {
  function domain(q = {}) {
    const s = setup(q);
    const d0 = s.open();
    const d5 = s.open(5);
    d0.call('MKDIR', '/local/domain/5\0');
    d0.call('SET_PERMS', '/local/domain/5\0n5\0');
    return { ...s, d0, d5 };
  }

  it('stops node creation at 1000 owned nodes with ENOSPC and logs it', () => {
    const { engine, d5, d0, log } = domain();
    let last = '';
    // 40 directories of 30: a single directory would first hit the node-size quota (its child list).
    for (let i = 0; i < 1200 && last !== 'ENOSPC'; i++) last = d5.call('WRITE', `d${i % 40}/n${i}\0`);
    expect(last).toBe('ENOSPC');
    expect(engine.store.usageOf(5).nodes).toBe(1000);
    expect(d5.call('WRITE', 'more\0')).toBe('ENOSPC');
    expect(log.some((e) => e.event === 'quota' && e.message.includes('nodesPerDomain'))).toBe(true);
    expect(d0.call('WRITE', '/local/domain/5/by-dom0\0')).toBe('OK\0');
  });

  it('limits node size below 2048 bytes and perms per node to 5', () => {
    const { d5 } = domain();
    expect(d5.call('WRITE', `big\0${'x'.repeat(2048 - 24 - 8 - 1)}`)).toBe('OK\0');
    expect(d5.call('WRITE', `big\0${'x'.repeat(2048 - 24 - 8)}`)).toBe('ENOSPC');
    // Four more perm entries would push the same record past the limit.
    expect(d5.call('SET_PERMS', 'big\0n5\0r0\0r0\0r0\0r0\0')).toBe('ENOSPC');
    d5.call('WRITE', 'small\0v');
    expect(d5.call('SET_PERMS', 'small\0n5\0r0\0r0\0r0\0r0\0')).toBe('OK\0');
    expect(d5.call('SET_PERMS', 'small\0n5\0r0\0r0\0r0\0r0\0r0\0')).toBe('ENOSPC');
  });

  it('accepts 129 watches per domain, the 130th gets E2BIG', () => {
    const { d5 } = domain();
    for (let i = 0; i < 129; i++) expect(d5.call('WATCH', `w${i}\0t\0`)).toBe('OK\0');
    expect(d5.call('WATCH', 'w-last\0t\0')).toBe('E2BIG');
  });

  it('allows 11 open transactions per connection, the 12th gets ENOSPC', () => {
    const { d5 } = domain();
    for (let i = 0; i < 11; i++) expect(d5.call('TRANSACTION_START', '\0')).toMatch(/^\d+\0$/);
    expect(d5.call('TRANSACTION_START', '\0')).toBe('ENOSPC');
  });

  it('limits the nodes one transaction touches', () => {
    const { d5 } = domain({ nodesPerTransaction: 10 });
    const id = Number(d5.call('TRANSACTION_START', '\0').replace('\0', ''));
    let last = '';
    for (let i = 0; i < 20; i++) last = d5.call('WRITE', `tx${i}\0v`, id);
    expect(last).toBe('ENOSPC');
  });
});
