/**
 * Scenario 6 (`--vif` policy keys, pure): objective: the policy keys parse
 * into netback's VifPolicy (trunks, rates with k/M/G, bursts, flood limits,
 * MAC cap, lossless, MAC lock), keys that do not fit together are refused
 * naming the key, and `vpio ls` shows the VLAN and policy columns in the
 * same syntax.
 */
import { describe, expect, it } from 'vitest';
import { formatLs } from '../src/format.js';
import { formatVifSpec, parseVifSpec, type LsResult } from '../src/index.js';

describe('--vif policy keys', () => {
  it('6.1 parses every policy key; only policy keys make a policy', () => {
    expect(parseVifSpec('trunk=10+20+30,native-vlan=10,rate-pps=10k,burst=64,rate-bps=1G,burst-bytes=2M,flood-pps=100,flood-burst=10,max-macs=4,lossless=1,mac-lock=0')).toEqual({
      policy: {
        trunk: { vids: [10, 20, 30], nativeVid: 10 }, ratePps: 10_000, burstPackets: 64, rateBps: 1e9, burstBytes: 2e6,
        floodPps: 100, floodBurst: 10, maxMacs: 4, lossless: true, macLock: false,
      },
    });
    expect(parseVifSpec('native-vlan=5,trunk=7')).toEqual({ policy: { trunk: { vids: [7], nativeVid: 5 } } });
    expect(parseVifSpec('vlan=10,mtu=1500')).toEqual({ vlan: 10, mtu: 1500 });
    expect(formatVifSpec(parseVifSpec('mac=02:00:00:00:00:01,trunk=10+20,rate-bps=100M,mac-lock=1'))).toBe('mac=02:00:00:00:00:01,trunk=10+20,rate-bps=100000000,mac-lock=1');
    expect(parseVifSpec('queues=4,vlan=3')).toEqual({ queues: 4, vlan: 3 });
    expect(formatVifSpec(parseVifSpec('queues=8'))).toBe('queues=8');
  });

  it('6.2 refuses bad values and keys that do not fit together, naming the key', () => {
    const bad: Array<[string, string]> = [
      ['trunk=10+5000', '--vif trunk: expected an integer in [1, 4094], got "5000"'],
      ['trunk=10+10', '--vif trunk: expected each VLAN id once (10+20+30), got "10+10"'],
      ['trunk=', '--vif trunk: expected an integer in [1, 4094], got ""'],
      ['trunk=10,vlan=10', '--vif vlan: expected absent with trunk= (native-vlan= carries untagged frames), got 10'],
      ['native-vlan=10', '--vif native-vlan: expected only with trunk= (the tagged VLANs), got 10'],
      ['rate-pps=0', '--vif rate-pps: expected an integer in [1, 10000000000] (suffix k, M or G allowed), got "0"'],
      ['rate-pps=11G', '--vif rate-pps: expected an integer in [1, 10000000000]'],
      ['rate-bps=1.5M', '--vif rate-bps: expected an integer in [1, 80000000000]'],
      ['burst-bytes=5', '--vif burst-bytes: expected only with rate-bps='],
      ['flood-burst=5', '--vif flood-burst: expected only with flood-pps='],
      ['max-macs=0', '--vif max-macs: expected an integer in [1, 16777216]'],
      ['lossless=yes', '--vif lossless: expected 0 or 1, got "yes"'],
      ['mac-lock=2', '--vif mac-lock: expected 0 or 1, got "2"'],
      ['buf-size=1024', '--vif buf-size: expected at least mtu + 14 (1514): a frame fits one buffer, got 1024'],
      ['vlna=3', '--vif: expected one of the keys mac, vlan,'],
      ['queues=0', '--vif queues: expected an integer in [1, 8], got "0"'],
      ['queues=9', '--vif queues: expected an integer in [1, 8], got "9"'],
    ];
    for (const [text, message] of bad) expect(() => parseVifSpec(text), text).toThrow(message);
    expect(() => parseVifSpec('vlna=3')).toThrow('(did you mean "vlan"?), got "vlna"');
  });

  it('6.3 ls shows trunks in the VLAN column and the policy in --vif syntax', () => {
    const vif = { mtu: 1500, backendState: 2, backendStateName: 'InitWait', frontendState: 1, frontendStateName: 'Initialising', port: 3, queues: 1, queuePorts: [3], error: undefined };
    const r: LsResult = {
      domains: [{
        domid: 1, name: 'fw', pid: 10, state: 'running', argv: ['/x'], vifs: [
          { ...vif, devid: 0, mac: '02:00:00:00:00:01', vlan: undefined, policy: { macLock: true, lossless: false, trunk: { vids: [10, 20], nativeVid: 30 }, ratePps: undefined, burstPackets: undefined, rateBps: undefined, burstBytes: undefined, floodPps: undefined, floodBurst: undefined, maxMacs: undefined } },
          { ...vif, devid: 1, mac: '02:00:00:00:00:02', vlan: 7, policy: { macLock: false, lossless: true, trunk: undefined, ratePps: 2500, burstPackets: 64, rateBps: 100_000_000, burstBytes: undefined, floodPps: 50, floodBurst: undefined, maxMacs: 4 } },
        ],
      }],
    };
    expect(formatLs(r).split('\n')).toEqual([
      'DOMID  NAME  STATE    PID  VIF  MAC                VLAN                   BACKEND   FRONTEND      PORT  POLICY',
      '1      fw    running  10   0    02:00:00:00:00:01  trunk 10+20 native 30  InitWait  Initialising  3     -',
      '                           1    02:00:00:00:00:02  7                      InitWait  Initialising  3     rate-pps=2500 burst=64 rate-bps=100M flood-pps=50 max-macs=4 lossless=1 mac-lock=0',
    ]);
  });

  it('6.4 ls shows a QUEUES column (in use / the vif\'s) and every queue port once some vif has queues', () => {
    const policy = { macLock: true, lossless: true, trunk: undefined, ratePps: undefined, burstPackets: undefined, rateBps: undefined, burstBytes: undefined, floodPps: undefined, floodBurst: undefined, maxMacs: undefined };
    const vif = { mtu: 1500, backendState: 4, backendStateName: 'Connected', frontendState: 4, frontendStateName: 'Connected', error: undefined, vlan: undefined, policy };
    const r: LsResult = {
      domains: [{
        domid: 2, name: 'lx', pid: 11, state: 'running', argv: ['/x'], vifs: [
          { ...vif, devid: 0, mac: '02:00:00:00:00:03', port: 4, queues: 4, queuePorts: [4, 5] },
          { ...vif, devid: 1, mac: '02:00:00:00:00:04', port: 6, queues: 1, queuePorts: [6] },
        ],
      }],
    };
    expect(formatLs(r).split('\n')).toEqual([
      'DOMID  NAME  STATE    PID  VIF  MAC                VLAN  BACKEND    FRONTEND   QUEUES  PORT  POLICY',
      '2      lx    running  11   0    02:00:00:00:00:03  -     Connected  Connected  2/4     4+5   lossless=1',
      '                           1    02:00:00:00:00:04  -     Connected  Connected  1/1     6     lossless=1',
    ]);
  });
});
