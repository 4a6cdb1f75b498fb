/**
 * What a Xen dom0 offers vpio, read from the machine: is this the control
 * domain, where Xen's xenstored listens, which Xen devices and kernel
 * modules are there, and the grant limits. The platform picks its mode
 * with `resolvePlatformMode()`; `vpio doctor` prints `xenChecks()`.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { VpioError } from '@vpio/errors';

export type PlatformMode = 'host' | 'xen';
export type PlatformModeRequest = PlatformMode | 'auto';

/** Where Xen's C xenstored listens (4.17: /run/xenstored/socket; Debian's libxenstore looks at /var/run/xenstored/socket). */
export const XENSTORED_SOCKETS = ['/run/xenstored/socket', '/var/run/xenstored/socket'] as const;
export const XEN_DEVICES = ['evtchn', 'gntalloc', 'gntdev', 'privcmd'] as const;
const CAPS = '/proc/xen/capabilities';
const GNTALLOC_LIMIT = '/sys/module/xen_gntalloc/parameters/limit';
/** v1 grant entries per 4 KiB grant-table frame (Linux dom0 uses v1). */
export const GRANTS_PER_FRAME = 512;
/** Xen 4.17's default gnttab_max_frames. */
export const XEN_DEFAULT_GNTTAB_FRAMES = 64;
/** Grants dom0's own kernel keeps for itself (xenstore, consoles, blkback...), a margin. */
export const DOM0_KERNEL_GRANTS = 1024;

/** True when this kernel runs as Xen's control domain (/proc/xen/capabilities says control_d). */
export function isXenControlDomain(capsPath = CAPS): boolean {
  try {
    return readFileSync(capsPath, 'utf8').includes('control_d');
  } catch {
    return false;
  }
}

/** The mode `vpio up --mode` resolves to: auto = xen on a control domain, else host. XEN_UNAVAILABLE for xen off Xen. */
export function resolvePlatformMode(request: PlatformModeRequest, capsPath = CAPS): PlatformMode {
  const xen = isXenControlDomain(capsPath);
  if (request === 'auto') return xen ? 'xen' : 'host';
  if (request === 'xen' && !xen) {
    throw new VpioError(
      'XEN_UNAVAILABLE',
      `--mode xen needs a Xen dom0: ${capsPath} ${existsPath(capsPath) ? 'does not say control_d (a domU, or xenfs shows no capabilities)' : 'is missing (not running on Xen, or xenfs not mounted: mount -t xenfs xenfs /proc/xen)'}; use --mode host`,
    );
  }
  return request;
}

function existsPath(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Xen's xenstored socket, or undefined (then only /dev/xen/xenbus is left, which the TS client does not speak yet). */
export function xenstoredSocket(candidates: readonly string[] = XENSTORED_SOCKETS): string | undefined {
  for (const p of candidates) {
    try {
      if (statSync(p).isSocket()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** gntalloc's page limit now, or undefined without the module. */
export function gntallocLimit(path = GNTALLOC_LIMIT): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Pages gntalloc must allow for `maxDomains` domains of `pagesPerDomain` granted pages each. */
export function gntallocPagesNeeded(maxDomains: number, pagesPerDomain: number): number {
  return maxDomains * pagesPerDomain;
}

/** gnttab_max_frames dom0 needs for `pages` granted pages plus its kernel's own. */
export function gnttabFramesNeeded(pages: number): number {
  return Math.ceil((pages + DOM0_KERNEL_GRANTS) / GRANTS_PER_FRAME);
}

/** gnttab_max_frames from Xen's command line (`xl info` xen_commandline), undefined when not set there (Xen's default applies). */
export function parseGnttabMaxFrames(xlInfo: string): number | undefined {
  const line = xlInfo.split('\n').find((l) => l.startsWith('xen_commandline'));
  const m = line ? /(?:^|\s)gnttab_max_frames=(\d+)/.exec(line.slice(line.indexOf(':') + 1)) : null;
  return m ? Number(m[1]) : undefined;
}

/** Is a kernel module loaded (/sys/module/NAME exists; a built-in one counts too)? */
export function moduleLoaded(name: string): boolean {
  return existsPath(`/sys/module/${name.replace(/-/g, '_')}`);
}

export interface XenCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly reason?: string;
  readonly fix?: string;
}

function run(cmd: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: err ? String(stderr) || err.message : String(stdout) }));
  });
}

/**
 * The xen side of `vpio doctor`: one check per line, each with the fix.
 * `pagesPerDomain`: what one domain's vifs grant (the CLI passes its default vif's).
 */
export async function xenChecks(options: { maxDomains: number; pagesPerDomain: number; xl?: string }): Promise<XenCheck[]> {
  const checks: XenCheck[] = [];
  const caps = isXenControlDomain();
  checks.push(caps ? { name: 'xen-control-domain', ok: true } : {
    name: 'xen-control-domain', ok: false, reason: `${CAPS} does not say control_d`, fix: 'run vpio in dom0 of a Xen host (mount -t xenfs xenfs /proc/xen), or use --mode host',
  });
  for (const dev of XEN_DEVICES) {
    const p = `/dev/xen/${dev}`;
    let ok = true;
    try {
      accessSync(p, constants.R_OK | constants.W_OK);
    } catch {
      ok = false;
    }
    const mod = dev === 'privcmd' ? 'xen-privcmd' : `xen-${dev}`;
    checks.push(ok ? { name: `dev-xen-${dev}`, ok } : { name: `dev-xen-${dev}`, ok, reason: `${p} is missing or not read-write for this user`, fix: `modprobe ${mod} (and run vpio as root)` });
  }
  const sock = xenstoredSocket();
  checks.push(sock ? { name: 'xenstored', ok: true, reason: sock } : {
    name: 'xenstored', ok: false, reason: `no socket at ${XENSTORED_SOCKETS.join(' or ')}`, fix: 'start Xen\'s xenstored (systemctl start xenstored, or the xencommons init script)',
  });
  const xl = options.xl ?? 'xl';
  const info = await run(xl, ['info']);
  checks.push(info.ok ? { name: 'xl', ok: true } : { name: 'xl', ok: false, reason: info.out.trim().split('\n').at(-1) ?? 'xl info failed', fix: 'apt install xen-utils-4.17 (xl) and start xencommons' });
  // the stock drivers: vpio's device type is vpio-vif, so they may stay loaded (they never probe it)
  const stock = ['xen-netback', 'xen-netfront'].filter(moduleLoaded);
  checks.push({ name: 'stock-vif-drivers', ok: true, reason: stock.length ? `${stock.join(', ')} loaded: fine, vpio's device type vpio-vif is not theirs` : 'not loaded (not needed by vpio)' });
  const need = gntallocPagesNeeded(options.maxDomains, options.pagesPerDomain);
  const limit = gntallocLimit();
  checks.push(limit === undefined
    ? { name: 'gntalloc-limit', ok: false, reason: 'xen_gntalloc is not loaded', fix: `modprobe xen-gntalloc limit=${need}` }
    : limit >= need
      ? { name: 'gntalloc-limit', ok: true, reason: `${limit} pages >= ${need} (${options.maxDomains} domains x ${options.pagesPerDomain})` }
      : { name: 'gntalloc-limit', ok: false, reason: `${limit} pages < ${need} (${options.maxDomains} domains x ${options.pagesPerDomain})`, fix: `vpio up --mode xen raises it as root; or echo ${need} > ${GNTALLOC_LIMIT}; at boot: options xen_gntalloc limit=${need} in /etc/modprobe.d/vpio.conf` });
  const frames = info.ok ? parseGnttabMaxFrames(info.out) ?? XEN_DEFAULT_GNTTAB_FRAMES : undefined;
  const framesNeeded = gnttabFramesNeeded(need);
  checks.push(frames === undefined
    ? { name: 'gnttab-max-frames', ok: false, reason: 'xl info failed', fix: 'see the xl check' }
    : frames >= framesNeeded
      ? { name: 'gnttab-max-frames', ok: true, reason: `${frames} frames (${frames * GRANTS_PER_FRAME} grants) >= ${framesNeeded}` }
      : { name: 'gnttab-max-frames', ok: false, reason: `dom0's grant table has ${frames} frames (${frames * GRANTS_PER_FRAME} grants), ${framesNeeded} needed for ${need} pages`, fix: `add gnttab_max_frames=${framesNeeded} to Xen's command line (GRUB_CMDLINE_XEN_DEFAULT in /etc/default/grub, update-grub, reboot), or lower --max-domains` });
  return checks;
}
