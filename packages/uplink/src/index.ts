/**
 * @vpio/uplink: where vpio-uplink lives. The program is C (csrc/); the CLI
 * (`vpio uplink`, `vpio vxlan`) starts it as a tenant through vpio-launch
 * with the wire socket at $VPIO_WIRE_FD.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VpioError } from '@vpio/errors';

/** The wire kinds vpio-uplink's --wire takes. */
export type UplinkWireKind = 'packet' | 'vxlan';

/** The wire kinds, in --help order. */
export const UPLINK_WIRE_KINDS: readonly UplinkWireKind[] = ['packet', 'vxlan'];

/** VXLAN's IANA UDP port, vpio-uplink's --dst-port default. */
export const VXLAN_DEFAULT_PORT = 4789;

/** Bytes VXLAN adds in front of each inner frame: outer IPv4 (20) or IPv6 (40) header, UDP (8), VXLAN (8), outer Ethernet (14). */
export const VXLAN_OVERHEAD_BYTES = { ipv4: 50, ipv6: 70 } as const;

/** Exit statuses of vpio-uplink. */
export const UPLINK_EXIT = { ok: 0, usage: 64, noWire: 69, dataPath: 70, connect: 75 } as const;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The vpio-uplink binary: $VPIO_UPLINK when set, else this package's
 * build/vpio-uplink. Throws VpioError('UPLINK_NOT_BUILT') when that file is missing.
 */
export function uplinkPath(): string {
  const fromEnv = process.env.VPIO_UPLINK;
  if (fromEnv) return fromEnv;
  const path = join(packageRoot, 'build', 'vpio-uplink');
  if (!existsSync(path)) {
    throw new VpioError(
      'UPLINK_NOT_BUILT',
      `vpio-uplink is not built (${path} is missing): run \`npx turbo run build --filter=@vpio/uplink\` (or set VPIO_UPLINK)`,
    );
  }
  return path;
}
