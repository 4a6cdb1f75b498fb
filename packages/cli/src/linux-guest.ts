/**
 * `vpio run --linux`: what a Linux guest adds to a domain. The domain's
 * guest is vpio-linux-netfront (@vpio/linux-netfront) with the user's
 * command after `--`; vpio-launch gives the domain a TAP device `eth0` with
 * vif 0's MAC and MTU (and the --ip/--ip6 addresses) in its own network
 * namespace, and the netfront bridges that TAP to vif 0. Pure, except for
 * finding the binary.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveTapOptions, type DomainTapOptions } from '@vpio/domain';
import { ArgumentError, expectInteger } from '@vpio/errors';
import { VIF_LIMITS } from '@vpio/vif';
import { CliError } from './cli-error.js';
import type { LinuxGuestArgs } from './protocol.js';
import type { VifSpec } from './vif-spec.js';

/** The TAP device's name inside every Linux guest. */
export const LINUX_GUEST_IFNAME = 'eth0';

/**
 * What a Linux guest's vif gets unless its --vif says otherwise: lossless
 * (TCP collapses on drops at a full RX ring: a full ring holds the sender
 * back instead) and 1024-slot rings (a 64 KiB super-frame takes 33 slots of
 * 2048 bytes).
 */
export const LINUX_GUEST_VIF_DEFAULTS = Object.freeze({ txSlots: 1024, rxSlots: 1024, lossless: true });

/**
 * Whether a Linux guest without --queues gets one queue per CPU it may run
 * on. Off: on the 2-core machine this was measured on, 2 queues were not
 * faster than 1 (linux-netfront README, "Multi-queue"), so the default stays
 * 1 and --queues N asks for more.
 */
export const LINUX_GUEST_QUEUES_PER_CPU = false;

/**
 * The queues a Linux guest gets without --queues: 1, or (with
 * LINUX_GUEST_QUEUES_PER_CPU) the CPUs this platform (the launcher's
 * context: the guest inherits its affinity) may run on, at most 8.
 */
export function linuxGuestDefaultQueues(cpus: number = availableParallelism()): number {
  return LINUX_GUEST_QUEUES_PER_CPU ? Math.max(1, Math.min(VIF_LIMITS.maxQueues, cpus)) : 1;
}

/** The vpio-linux-netfront binary: $VPIO_LINUX_NETFRONT, else @vpio/linux-netfront's build. */
export function linuxNetfrontPath(): string {
  const fromEnv = process.env.VPIO_LINUX_NETFRONT;
  if (fromEnv) return fromEnv;
  let path: string | undefined;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve('@vpio/linux-netfront/package.json')), 'build', 'vpio-linux-netfront');
  } catch {
    path = undefined;
  }
  if (!path || !existsSync(path)) {
    throw new CliError('CLI_RUN', 'vpio-linux-netfront is not built: run `npx turbo run build --filter=@vpio/linux-netfront` (or set VPIO_LINUX_NETFRONT)');
  }
  return path;
}

export interface LinuxGuestPlan {
  readonly argv: readonly string[];
  readonly vifs: readonly VifSpec[];
  readonly tap: DomainTapOptions;
}

/**
 * The domain a Linux guest becomes: one vif (made if none was given), the netfront's argv, the TAP.
 * `binary` may be a function (linuxNetfrontPath): it is called only once the arguments are valid,
 * so a bad argument is reported as such even where the netfront is not built yet.
 */
export function planLinuxGuest(linux: LinuxGuestArgs, argv: readonly string[], vifs: readonly VifSpec[], mode: 'event' | 'poll', binary: string | (() => string)): LinuxGuestPlan {
  if (typeof linux !== 'object' || linux === null) throw new ArgumentError('linux', 'an object', linux);
  if (vifs.length > 1) throw new ArgumentError('vifs', 'at most one --vif with --linux (eth0 is bridged to vif 0)', vifs.length);
  const given: VifSpec = vifs[0] ?? {};
  const asked = linux.queues === undefined ? undefined : expectInteger('--queues', linux.queues, 1, VIF_LIMITS.maxQueues);
  if (asked !== undefined && given.queues !== undefined && given.queues !== asked) {
    throw new ArgumentError('--queues', `the same as --vif queues= (${given.queues}), or one of them`, asked);
  }
  // the TAP and the vif get the same count: TAP queue q <-> ring pair q
  const queues = asked ?? given.queues ?? linuxGuestDefaultQueues();
  const vif0: VifSpec = {
    ...given,
    txSlots: given.txSlots ?? LINUX_GUEST_VIF_DEFAULTS.txSlots,
    rxSlots: given.rxSlots ?? LINUX_GUEST_VIF_DEFAULTS.rxSlots,
    queues,
    policy: { ...given.policy, lossless: given.policy?.lossless ?? LINUX_GUEST_VIF_DEFAULTS.lossless },
  };
  const tap = resolveTapOptions({ name: LINUX_GUEST_IFNAME, mtu: vif0.mtu ?? 1500, vnetHdr: true, queues, ...(linux.ipv4 === undefined ? {} : { ipv4: linux.ipv4 }), ...(linux.ipv6 === undefined ? {} : { ipv6: linux.ipv6 }) });
  const offload = linux.offload === false ? ['--offload', 'off'] : [];
  const bin = typeof binary === 'function' ? binary() : binary;
  return { argv: [bin, '--devid', '0', '--mode', mode, ...offload, '--', ...argv], vifs: [vif0], tap };
}
