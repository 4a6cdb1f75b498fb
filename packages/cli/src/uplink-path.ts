/**
 * Where an uplink's built parts are, each found by package name (as
 * linux-guest.ts finds vpio-linux-netfront: the CLI needs the files, not the
 * packages' JavaScript), or from an environment variable:
 *   vpio-uplink      $VPIO_UPLINK, else @vpio/uplink's build/vpio-uplink;
 *   vpio-xdp-probe   $VPIO_XDP_PROBE, else @vpio/uplink's build/vpio-xdp-probe;
 *   xdp_vpio.bpf.o   $VPIO_XDP_OBJ, else @vpio/kernel's build/xdp_vpio.bpf.o
 *                    (vpio's XDP program, which vpio-launch loads for an
 *                    AF_XDP uplink).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './cli-error.js';

/** `pkg`'s directory joined with `rel`, or undefined when the package is not installed. */
function packageFile(pkg: string, rel: string): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), rel);
  } catch {
    return undefined;
  }
}

/** $env (made absolute) when set, else the package's file; throws CliError saying how to build it when missing. */
function builtFile(env: string, pkg: string, rel: string, what: string): string {
  const fromEnv = process.env[env];
  if (fromEnv) return resolve(fromEnv);
  const path = packageFile(pkg, rel);
  if (!path || !existsSync(path)) {
    throw new CliError('CLI_UPLINK', `${what} is not built: run \`npx turbo run build --filter=${pkg}\` (or set ${env})`);
  }
  return path;
}

export function uplinkBinaryPath(): string {
  const fromEnv = process.env.VPIO_UPLINK;
  if (fromEnv) return fromEnv;
  return builtFile('VPIO_UPLINK', '@vpio/uplink', join('build', 'vpio-uplink'), 'vpio-uplink');
}

/** vpio-xdp-probe: whether an AF_XDP wire can run on an interface, and how (uplink-doctor.ts runs it). */
export function xdpProbePath(): string {
  return builtFile('VPIO_XDP_PROBE', '@vpio/uplink', join('build', 'vpio-xdp-probe'), 'vpio-xdp-probe');
}

/** vpio's XDP program, absolute (vpio-launch --wire-xdp-obj). */
export function xdpObjectPath(): string {
  return builtFile('VPIO_XDP_OBJ', '@vpio/kernel', join('build', 'xdp_vpio.bpf.o'), 'kernel/build/xdp_vpio.bpf.o');
}
