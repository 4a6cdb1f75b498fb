/**
 * vpio-uplink's C test programs (TAP, ASan + UBSan; each line a vitest case):
 * the backend list, the VXLAN codec and learning table, the TPACKET_V3 block
 * walk, and (root only: it makes network namespaces) both backends on a
 * veth pair and against Linux vxlan devices.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(root, 'build', 'test', name);

defineTapSuite('test-wire (backend list, descriptor checks; ASan + UBSan)', await runTapProgram(bin('test-wire'), { cwd: root }), { minCases: 2 });
defineTapSuite('test-vxlan (codec, VNI map, learning table, hostile input; ASan + UBSan)', await runTapProgram(bin('test-vxlan'), { cwd: root }), { minCases: 10 });
defineTapSuite('test-tpacket (TPACKET_V3 block walk, odd and hostile blocks; ASan + UBSan)', await runTapProgram(bin('test-tpacket'), { cwd: root }), { minCases: 5 });

if (process.getuid?.() === 0) {
  defineTapSuite(
    'test-wire-netns (packet on a veth pair, vxlan against Linux vxlan devices, in network namespaces of its own; root)',
    await runTapProgram(bin('test-wire-netns'), { cwd: root, timeoutMs: 120_000 }),
    { minCases: 8 },
  );
} else {
  describe('test-wire-netns (root only)', () => {
    it.skip('needs root: network namespaces, veth and vxlan devices', () => {});
  });
}
