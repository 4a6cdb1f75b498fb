/**
 * XenDom0: vpiod's parts on a real Xen dom0, the xen sibling of `Vpiod`
 * (host mode). Where Vpiod runs its own xenstored and brokers, XenDom0
 * connects to what Xen provides:
 *
 *   - `xenstore`: a privileged client of Xen's xenstored (its socket,
 *     /run/xenstored/socket or /var/run/xenstored/socket); vpio runs no
 *     xenstored of its own in xen mode;
 *   - `grants`: a GrantTable over @vpio/grant's xen driver (gntalloc; one
 *     ref per page), after raising gntalloc's limit to what `maxDomains`
 *     domains of `pagesPerDomain` need;
 *   - `evtchn`: @vpio/evtchn's XenEventChannels (one /dev/xen/evtchn
 *     descriptor per bound port);
 *   - `domains`: XenDomains (xl: create -p / unpause / destroy, deaths from
 *     @releaseDomain).
 *
 * netback takes `xenstore`, `grants` and `evtchn` exactly as it takes
 * Vpiod's `xenstorePath`, `grants` and `evtchn` in host mode.
 *
 * start() order: xen devices → xenstored socket → gntalloc limit → dom0's
 * grant frames (refuses when Xen's gnttab_max_frames cannot hold what
 * maxDomains need: a full grant table wedges gntalloc, xen/tests/README.md)
 * → grant table → event channels → xenstore client → domain driver; close() undoes
 * it in reverse (domains destroyed first). A failing step undoes the ones
 * before it and the error (XEN_START) names it.
 */
import { VpioError } from '@vpio/errors';
import { openXenEventChannels, checkXenEvtchnDevice, type XenEventChannels } from '@vpio/evtchn';
import { GrantTable, checkXenGrantDevice, raiseGntallocLimit, xenGrantDriver, xenGrantLimits } from '@vpio/grant';
import { XenstoreClient } from '@vpio/xenstore';
import { XenDomains, type XlRunner } from './xen-domains.js';
import { execFile } from 'node:child_process';
import { DOM0_KERNEL_GRANTS, GRANTS_PER_FRAME, XEN_DEFAULT_GNTTAB_FRAMES, XENSTORED_SOCKETS, gntallocPagesNeeded, gnttabFramesNeeded, parseGnttabMaxFrames, xenstoredSocket } from './xen-host.js';

export interface XenDom0Options {
  readonly dir: string;
  /** Most live domains (default 64). */
  readonly maxDomains?: number;
  /** Pages dom0 grants one domain at most (its vifs' rings and pools): sizes gntalloc's limit and the grant table's. */
  readonly pagesPerDomain: number;
  /** Xen's xenstored socket (default: the first of XENSTORED_SOCKETS that is a socket). */
  readonly xenstorePath?: string;
  readonly xl?: string;
  readonly runXl?: XlRunner;
  readonly log?: (entry: { level: 'debug' | 'info' | 'warn'; event: string; domid?: number; message: string }) => void;
}

export class XenDom0 implements AsyncDisposable {
  readonly #options: XenDom0Options;
  #xenstore: XenstoreClient | undefined;
  #grants: GrantTable | undefined;
  #evtchn: XenEventChannels | undefined;
  #domains: XenDomains | undefined;
  #xenstorePath = '';
  #gntallocLimit: number | undefined;
  #maxDomains = 0;
  #state: 'new' | 'running' | 'closed' = 'new';

  constructor(options: XenDom0Options) {
    this.#options = options;
  }

  get xenstore(): XenstoreClient {
    return this.#need(this.#xenstore);
  }
  get grants(): GrantTable {
    return this.#need(this.#grants);
  }
  get evtchn(): XenEventChannels {
    return this.#need(this.#evtchn);
  }
  get domains(): XenDomains {
    return this.#need(this.#domains);
  }
  get xenstorePath(): string {
    return this.#xenstorePath;
  }
  /** The domains this dom0 was sized for: maxDomains, or (when not given) min(64, what dom0's grant table fits). */
  get maxDomains(): number {
    return this.#maxDomains;
  }
  /** gntalloc's page limit after start() (raised if it was lower than needed). */
  get gntallocLimit(): number | undefined {
    return this.#gntallocLimit;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new VpioError('VPIOD_STATE', `start() on a ${this.#state} XenDom0`);
    let maxDomains = this.#options.maxDomains ?? 64;
    let step = 'devices';
    try {
      checkXenGrantDevice('gntalloc');
      checkXenGrantDevice('gntdev');
      checkXenEvtchnDevice();
      step = 'xenstored';
      const path = this.#options.xenstorePath ?? xenstoredSocket();
      if (!path) {
        throw new VpioError('XEN_XENSTORED', `Xen's xenstored has no socket at ${XENSTORED_SOCKETS.join(' or ')}: start it (systemctl start xenstored / xencommons)`);
      }
      this.#xenstorePath = path;
      step = 'gnttab';
      const info = await this.#xlInfo();
      const frames = info === undefined ? undefined : parseGnttabMaxFrames(info) ?? XEN_DEFAULT_GNTTAB_FRAMES;
      if (frames !== undefined) {
        // what dom0's grant table holds besides its kernel's own grants
        const fit = Math.max(0, Math.floor((frames * GRANTS_PER_FRAME - DOM0_KERNEL_GRANTS) / this.#options.pagesPerDomain));
        if (this.#options.maxDomains === undefined && fit < maxDomains) {
          maxDomains = fit; // the default shrinks to what fits; an explicit maxDomains is refused below instead
          this.#log('warn', 'max-domains', `dom0's grant table (gnttab_max_frames=${frames}) fits ${fit} domains of ${this.#options.pagesPerDomain} pages: maxDomains ${fit}`);
        }
        const needFrames = gnttabFramesNeeded(gntallocPagesNeeded(maxDomains, this.#options.pagesPerDomain));
        if (maxDomains < 1 || frames < needFrames) {
          throw new VpioError(
            'XEN_GNTTAB_LIMIT',
            `dom0's grant table holds ${frames * GRANTS_PER_FRAME} grants (gnttab_max_frames=${frames}); ${maxDomains} domains x ${this.#options.pagesPerDomain} pages need ${needFrames} frames: ` +
              `add gnttab_max_frames=${needFrames} to Xen's command line (GRUB_CMDLINE_XEN_DEFAULT in /etc/default/grub, update-grub, reboot), or use --max-domains ${fit}`,
          );
        }
      }
      this.#maxDomains = maxDomains;
      step = 'gntalloc-limit';
      const need = gntallocPagesNeeded(maxDomains, this.#options.pagesPerDomain);
      const now = xenGrantLimits().gntallocPages;
      if (now === undefined || now < need) {
        try {
          this.#gntallocLimit = raiseGntallocLimit(need);
        } catch (e) {
          throw new VpioError(
            'XEN_GNTALLOC_LIMIT',
            `gntalloc allows ${now ?? '?'} pages, ${need} needed for ${maxDomains} domains x ${this.#options.pagesPerDomain} pages and it cannot be raised here (${(e as Error).message}): ` +
              `as root: echo ${need} > /sys/module/xen_gntalloc/parameters/limit, or options xen_gntalloc limit=${need} in /etc/modprobe.d/, or lower --max-domains`,
            { cause: e },
          );
        }
      } else {
        this.#gntallocLimit = now;
      }
      step = 'grants';
      this.#grants = new GrantTable({ domid: 0, driver: xenGrantDriver(), limits: { maxGrants: maxDomains * 64 + 64, maxBytes: (need + 1024) * 4096 } });
      step = 'evtchn';
      this.#evtchn = openXenEventChannels({ maxPorts: maxDomains * 2 * 8 * 2 + 16 });
      step = 'xenstore';
      this.#xenstore = await XenstoreClient.connect(path);
      step = 'domains';
      this.#domains = new XenDomains({
        dir: this.#options.dir,
        xenstore: this.#xenstore,
        maxDomains,
        ...(this.#options.xl === undefined ? {} : { xl: this.#options.xl }),
        ...(this.#options.runXl === undefined ? {} : { runXl: this.#options.runXl }),
        ...(this.#options.log === undefined ? {} : { log: this.#options.log }),
      });
      await this.#domains.start();
    } catch (e) {
      await this.#teardown();
      this.#state = 'closed';
      const detail = e instanceof VpioError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new VpioError('XEN_START', `xen mode did not start (step ${step}): ${detail}`, { cause: e });
    }
    this.#state = 'running';
  }

  /** Destroys the domains, then closes channels, grants and the xenstore connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#teardown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `xl info` (for xen_commandline), undefined when xl does not answer (the domains step reports that). */
  #xlInfo(): Promise<string | undefined> {
    if (this.#options.runXl) return this.#options.runXl(['info']).catch(() => undefined);
    return new Promise((resolve) => {
      execFile(this.#options.xl ?? 'xl', ['info'], { timeout: 60_000 }, (err, stdout) => resolve(err ? undefined : String(stdout)));
    });
  }

  async #teardown(): Promise<void> {
    await this.#domains?.close().catch(() => undefined);
    try {
      this.#evtchn?.closeAll();
    } catch {
      /* already closed */
    }
    try {
      this.#grants?.close();
    } catch {
      /* already closed */
    }
    await this.#xenstore?.close().catch(() => undefined);
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, message: string): void {
    this.#options.log?.({ level, event, message });
  }

  #need<T>(v: T | undefined): T {
    if (v === undefined) throw new VpioError('VPIOD_STATE', 'XenDom0 is not running');
    return v;
  }
}
