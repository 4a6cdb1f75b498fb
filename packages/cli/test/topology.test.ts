/**
 * Scenario 4 (the topology file, pure): objective: parseTopology() accepts
 * the shipped example and turns guests and vifs into what `run` sends; every
 * kind of mistake is reported at its exact file:line:column with what was
 * expected (unknown keys with a "did you mean", wrong types, bad MACs and
 * VLANs, duplicate names and MACs, unknown sections, YAML syntax); all
 * problems of a file are listed at once; arbitrary text never throws anything
 * but TopologyError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopologyError, applyTopology, describeTopology, formatVifSpec, parseTopology, parseVifSpec } from '../src/index.js';
import { root } from './helpers.js';

/** The problems of `text` as "line:col: message". */
function problems(text: string): string[] {
  try {
    parseTopology(text, 't.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(TopologyError);
    expect((e as TopologyError).code).toBe('CLI_TOPOLOGY');
    return (e as TopologyError).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
  }
  return [];
}

const guest = (vif: string): string => `guests:
  - name: g1
    command: [/bin/sleep, 60]
    vifs:
      - ${vif}
`;

describe('topology files', () => {
  it('4.1 the shipped example is valid and becomes run requests', () => {
    const file = join(root, 'examples', 'topology.yaml');
    const t = parseTopology(readFileSync(file, 'utf8'), file);
    expect(t.switch).toEqual({ cores: [1], mode: 'event' });
    expect(t.guests.map((g) => [g.name, g.line])).toEqual([['fw1', 13], ['tenant-a', 23], ['tenant-b', 34]]);
    expect(t.guests[0]).toMatchObject({ command: ['/bin/sleep', 'infinity'], memoryMiB: 64, env: {}, commandAt: { line: 14, column: 15 } });
    expect(t.guests[0]!.vifs).toEqual([{ mac: '02:00:00:00:01:01', policy: { trunk: { vids: [10, 20], nativeVid: 10 }, maxMacs: 8 } }]);
    expect(t.guests[1]!.env).toEqual({ GUEST_LOG: 'debug' });
    expect(t.guests[1]!.vifTexts).toEqual(['mac=02:00:00:00:0a:01,vlan=10,rate-pps=100000,burst=256,flood-pps=100']);
    expect(t.guests[2]!.vifs[0]!.policy).toEqual({ rateBps: 1e9, burstBytes: 1e6, lossless: true });
    for (const g of t.guests) expect(g.vifTexts.map(parseVifSpec)).toEqual(g.vifs);
    expect(describeTopology(t)).toBe(`${file}: valid: 3 guests (fw1, tenant-a, tenant-b), 3 vifs, switch cores 1, event mode`);
  });

  it('4.2 plain scalars keep their text: numbers in argv and env, a single core, bare vifs', () => {
    const t = parseTopology(`switch: { cores: -1 }
guests:
  - name: a
    command: [/bin/sleep, 60, 1.50]
    env: { N: 010, S: "x y", B: true }
    vifs: [{}, {vlan: 5, lossless: false, mac-lock: 0}]
`);
    expect(t.switch).toEqual({ cores: [-1] });
    expect(t.guests[0]).toMatchObject({ command: ['/bin/sleep', '60', '1.50'], env: { N: '010', S: 'x y', B: 'true' }, memoryMiB: undefined });
    expect(t.guests[0]!.vifs).toEqual([{}, { vlan: 5, policy: { lossless: false, macLock: false } }]);
    expect(t.guests[0]!.vifTexts).toEqual(['', 'vlan=5,lossless=0,mac-lock=0']);
    expect(parseTopology('').guests).toEqual([]);
  });

  it('4.3 unknown keys and sections: where, and the closest valid one', () => {
    expect(problems('switch: { cores: 1 }\nguest:\n  - name: a\n')).toEqual([
      '2:1: top level: expected one of the sections switch, guests (did you mean "guests"?), got "guest"',
    ]);
    expect(problems('network: {}\n')).toEqual(['1:1: top level: expected one of the sections switch, guests, got "network"']);
    expect(problems(guest('{ mac: 02:00:00:00:00:01, vlna: 10 }'))).toEqual([
      '5:35: guests[0].vifs[0]: expected one of the keys mac, vlan, mtu, tx-slots, rx-slots, buf-size, queues, trunk, native-vlan, rate-pps, burst, rate-bps, burst-bytes, flood-pps, flood-burst, max-macs, lossless, mac-lock (did you mean "vlan"?), got "vlna"',
    ]);
    expect(problems('guests:\n  - name: a\n    comand: [/bin/true]\n')).toEqual([
      '2:5: guests[0]: expected a command: key (the guest binary and its arguments, e.g. [/bin/sleep, 60])',
      '3:5: guests[0]: expected one of the keys name, command, env, memory, vifs (did you mean "command"?), got "comand"',
    ]);
    expect(problems('switch:\n  cors: [1]\n')).toEqual(['2:3: switch: expected one of the keys cores, mode (did you mean "cores"?), got "cors"']);
  });

  it('4.4 wrong types name the path, what was expected and what arrived', () => {
    expect(problems('guests: { name: a }\n')).toEqual(['1:9: guests: expected a list of guests (name, command, env, memory, vifs), got a map']);
    expect(problems('guests:\n  - name: a\n    command: /bin/sleep 60\n')).toEqual([
      '3:14: guests[0].command: expected a list: the guest binary and its arguments, e.g. [/bin/sleep, 60], got "/bin/sleep 60"',
    ]);
    expect(problems('guests:\n  - name: a\n    command: [/bin/true]\n    memory: 1G\n')).toEqual([
      '4:13: guests[0].memory: expected an integer in [16, 1048576], got "1G"',
    ]);
    expect(problems('guests:\n  - name: [a]\n    command: [/bin/true]\n')).toEqual([
      '2:11: guests[0].name: expected 1..64 characters of [A-Za-z0-9_.-], got a list',
    ]);
    expect(problems('guests:\n  - name: "a b"\n    command: [/bin/true]\n    env: { 1X: y }\n')).toEqual([
      '2:11: guests[0].name: expected 1..64 characters of [A-Za-z0-9_.-], got "a b"',
      '4:12: guests[0].env: expected variable names like [A-Za-z_][A-Za-z0-9_]* other than VPIO_DOMID and VPIO_CTRL_FD (vpiod sets them), got "1X"',
    ]);
    expect(problems(guest('{ trunk: [10, x] }'))).toEqual(['5:18: guests[0].vifs[0].trunk: expected a list of VLAN ids [10, 20] (or "10+20"), got a list']);
    expect(problems(guest('{ lossless: maybe }'))).toEqual(['5:21: guests[0].vifs[0].lossless: expected 0 or 1, got "maybe"']);
    expect(problems(guest('vlan'))).toEqual([expect.stringMatching(/^5:9: guests\[0\]\.vifs\[0\]: expected a map of vif keys \(mac, vlan, .*\), got "vlan"$/)]);
    expect(problems(guest('{ vlan: }'))).toEqual(['5:17: guests[0].vifs[0].vlan: expected a number, got null']);
    expect(problems(guest('{ rate-pps: 10x }'))).toEqual(['5:21: guests[0].vifs[0].rate-pps: expected an integer in [1, 10000000000] (suffix k, M or G allowed), got "10x"']);
    expect(problems('switch: { mode: turbo, cores: [0, 2000] }\n')).toEqual([
      '1:17: switch.mode: expected event or poll, got "turbo"',
      '1:35: switch.cores[1]: expected an integer in [-1, 1023], got 2000',
    ]);
    expect(problems('- a\n')).toEqual(['1:1: t.yaml: expected a map with the sections switch, guests, got a list']);
  });

  it('4.5 bad values: MAC, VLAN out of range, policies that do not fit together', () => {
    expect(problems(guest('{ mac: 01:00:00:00:00:01 }'))).toEqual(['5:16: guests[0].vifs[0].mac: expected a unicast MAC (first byte even), got "01:00:00:00:00:01"']);
    expect(problems(guest('{ mac: 02:00:00:00:01 }'))).toEqual(['5:16: guests[0].vifs[0].mac: expected six hex bytes like 02:00:00:00:00:01, got "02:00:00:00:01"']);
    expect(problems(guest('{ vlan: 4095 }'))).toEqual(['5:17: guests[0].vifs[0].vlan: expected an integer in [1, 4094], got 4095']);
    expect(problems(guest('{ trunk: [10, 5000] }'))).toEqual(['5:18: guests[0].vifs[0].trunk: expected an integer in [1, 4094], got "5000"']);
    expect(problems(guest('{ vlan: 10, trunk: [20] }'))).toEqual([
      '5:17: guests[0].vifs[0].vlan: expected absent with trunk= (native-vlan= carries untagged frames), got 10',
    ]);
    expect(problems(guest('{ rate-pps: 10, burst-bytes: 5 }'))).toEqual([
      '5:38: guests[0].vifs[0].burst-bytes: expected only with rate-bps= (a burst is the bucket of a rate), got 5',
    ]);
    expect(problems(guest('{ native-vlan: 7 }'))).toEqual(['5:24: guests[0].vifs[0].native-vlan: expected only with trunk= (the tagged VLANs), got 7']);
    expect(problems(guest('{ mtu: 9000, buf-size: 2048 }'))).toEqual([
      '5:32: guests[0].vifs[0].buf-size: expected at least mtu + 14 (9014): a frame fits one buffer, got 2048',
    ]);
  });

  it('4.6 duplicate guest names and MACs point at the second, naming the first', () => {
    const text = `guests:
  - name: fw1
    command: [/bin/true]
    vifs:
      - mac: 02:00:00:00:00:01
  - name: fw1
    command: [/bin/true]
  - name: fw2
    command: [/bin/true]
    vifs:
      - mac: 02:00:00:00:00:02
      - mac: 02:00:00:00:00:01
`;
    expect(problems(text)).toEqual([
      '6:11: guests[1].name: expected a name no other guest has, got "fw1" (also guests[0], line 2)',
      '12:14: guests[2].vifs[1].mac: expected a MAC no other vif has, got "02:00:00:00:00:01" (also guests[0].vifs[0], line 5)',
    ]);
  });

  it('4.7 YAML syntax errors and duplicate keys keep the parser\'s position', () => {
    expect(problems('guests:\n  - name: a\n    command: [/bin/true\n')).toEqual([expect.stringMatching(/^4:1: YAML: /)]);
    expect(problems('guests:\n  - name: a\n    name: b\n    command: [/bin/true]\n')).toEqual(['3:5: YAML: Map keys must be unique']);
    expect(problems('guests:\n\t- name: a\n')).toEqual([expect.stringMatching(/^2:1: YAML: /)]);
  });

  it('4.8 every problem of a file is listed in one error whose message carries file:line:col', () => {
    let err: TopologyError | undefined;
    try {
      parseTopology('swich: {}\nguests:\n  - name: a\n    command: [/bin/true]\n    vifs: [{vlan: 0}, {mac: x}]\n', '/etc/t.yaml');
    } catch (e) {
      err = e as TopologyError;
    }
    expect(err?.message).toBe([
      '/etc/t.yaml is not a valid topology (3 problems); nothing was started:',
      '  /etc/t.yaml:1:1: top level: expected one of the sections switch, guests (did you mean "switch"?), got "swich"',
      '  /etc/t.yaml:5:19: guests[0].vifs[0].vlan: expected an integer in [1, 4094], got 0',
      '  /etc/t.yaml:5:29: guests[0].vifs[1].mac: expected six hex bytes like 02:00:00:00:00:01, got "x"',
    ].join('\n'));
  });

  it('4.9 arbitrary text and structure-aware mutations never throw anything but TopologyError', () => {
    const pieces = ['guests:', 'switch:', '  - name: a', '    command: [/bin/true]', '    vifs:', '      - vlan: 10', '      - trunk: [1, 2]',
      '  cores: [1]', '  mode: poll', '    env: { A: b }', '- x', ': :', '"', '[', '{', '\t', '    memory: 32', '      - mac: 02:00:00:00:00:01'];
    const check = (text: string): void => {
      try {
        parseTopology(text);
      } catch (e) {
        expect(e).toBeInstanceOf(TopologyError);
      }
    };
    fc.assert(fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (lines) => check(lines.join('\n'))), { numRuns: 600 });
    fc.assert(fc.property(fc.string(), check), { numRuns: 500 });
  });

  it('4.10 --vif text round-trips through formatVifSpec', () => {
    const specs = fc.record({
      vlan: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
      mtu: fc.option(fc.integer({ min: 68, max: 9000 }), { nil: undefined }),
      rate: fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
      trunk: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 4094 }), { minLength: 1, maxLength: 5 }), { nil: undefined }),
      lossless: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(fc.property(specs, (s) => {
      const parts = [s.trunk ? `trunk=${s.trunk.join('+')}` : s.vlan ? `vlan=${s.vlan}` : '', s.mtu ? `mtu=${s.mtu},buf-size=9100` : '',
        s.rate ? `rate-pps=${s.rate},burst=${s.rate}` : '', s.lossless === undefined ? '' : `lossless=${Number(s.lossless)}`].filter(Boolean);
      const spec = parseVifSpec(parts.join(','));
      expect(parseVifSpec(formatVifSpec(spec))).toEqual(spec);
    }), { numRuns: 500 });
  });

  it('4.11 apply starts guests in order and stops at the first failure, naming it', async () => {
    const t = parseTopology('guests:\n  - name: a\n    command: [/bin/true]\n  - name: b\n    command: [/bin/true]\n  - name: c\n    command: [/bin/true]\n', 'x.yaml');
    const started: string[] = [];
    const err = await applyTopology(t, async (g) => {
      if (g.name === 'b') throw new TopologyError('CLI_TOPOLOGY', 'boom');
      started.push(g.name);
      return { domid: started.length, name: g.name, pid: 1, state: 'running', argv: g.command, vifs: [] };
    }).catch((e: unknown) => e as TopologyError);
    expect(started).toEqual(['a']);
    expect(err).toMatchObject({ code: 'CLI_TOPOLOGY_APPLY', message: 'guest "b" (x.yaml:4) did not start: CLI_TOPOLOGY: boom' });
  });
});
