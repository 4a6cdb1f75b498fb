/**
 * Scenario 7 (`vpio run --linux` planning, pure): objective: a Linux
 * guest's TAP and vif 0 get the same queue count (TAP queue q <-> ring pair
 * q), from --queues, --vif queues= or the default, refused when the two
 * disagree or are out of range; a domain whose vifs need more mappings than
 * vpiod's default budget gets that budget raised.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_GUEST_QUEUES_PER_CPU, linuxGuestDefaultQueues, planLinuxGuest } from '../src/linux-guest.js';
import { vifMappedPages } from '../src/platform.js';

const plan = (linux: Parameters<typeof planLinuxGuest>[0], vifs: Parameters<typeof planLinuxGuest>[2] = []) => planLinuxGuest(linux, ['/bin/true'], vifs, 'event', '/x/vpio-linux-netfront');

describe('vpio run --linux --queues', () => {
  it('7.1 gives the TAP and vif 0 the same queue count', () => {
    const p = plan({ queues: 2 });
    expect(p.tap.queues).toBe(2);
    expect(p.vifs[0]).toMatchObject({ queues: 2, txSlots: 1024, rxSlots: 1024 });
    expect(p.argv).toEqual(['/x/vpio-linux-netfront', '--devid', '0', '--mode', 'event', '--', '/bin/true']); // the netfront uses every TAP queue
    const v = plan({}, [{ queues: 3 }]);
    expect([v.tap.queues, v.vifs[0]!.queues]).toEqual([3, 3]);
    const same = plan({ queues: 4 }, [{ queues: 4 }]);
    expect([same.tap.queues, same.vifs[0]!.queues]).toEqual([4, 4]);
  });

  it('7.2 the default: one queue (per CPU only where measured faster), capped at 8', () => {
    expect(LINUX_GUEST_QUEUES_PER_CPU).toBe(false);
    expect(plan({}).tap.queues).toBe(linuxGuestDefaultQueues());
    expect(linuxGuestDefaultQueues(2)).toBe(1);
    expect(linuxGuestDefaultQueues(64)).toBe(1);
  });

  it('7.3 refuses counts out of range and --queues that disagrees with --vif queues=', () => {
    for (const q of [0, 9, 1.5]) expect(() => plan({ queues: q }), String(q)).toThrow(/--queues: expected an integer in \[1, 8\]/);
    expect(() => plan({ queues: 2 }, [{ queues: 4 }])).toThrow('--queues: expected the same as --vif queues= (4), or one of them, got 2');
  });

  it('7.4 a domain maps every queue\'s rings and pool: 4 queues of a Linux guest\'s vif pass vpiod\'s default 4096 pages', () => {
    const lx = { txSlots: 1024, rxSlots: 1024, bufSizeBytes: 2048 };
    expect(vifMappedPages([{ ...lx, queues: 1 }])).toBe(5 + 5 + 1056);
    expect(vifMappedPages([{ ...lx, queues: 4 }])).toBe(4 * 1066);
    expect(vifMappedPages([{ ...lx, queues: 4 }])).toBeGreaterThan(4096);
    expect(vifMappedPages([{ txSlots: 256, rxSlots: 256, bufSizeBytes: 2048, queues: 2 }, { txSlots: 256, rxSlots: 256, bufSizeBytes: 2048, queues: 1 }])).toBe(3 * (2 + 2 + 288));
  });
});
