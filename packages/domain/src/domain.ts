/**
 * One domain as vpiod sees it: a read-only handle. The Vpiod that created
 * it owns every resource behind it (process, pidfd, sockets, cgroup,
 * xenstore nodes) and releases them when the domain dies.
 */
import type { Readable } from 'node:stream';
import type { DomainBrokerLimits } from './domain-options.js';

export type DomainState = 'running' | 'dying' | 'released';

/** How the domain ended. */
export interface DomainExit {
  /** Exit status of the launcher (the guest's own status passes through; 128+n when the guest was killed by signal n). */
  readonly code: number | null;
  /** Set when the launcher itself was killed (a forced destroy). */
  readonly signal: NodeJS.Signals | null;
  /** Set when the launcher failed a sandbox step before the guest ran. */
  readonly launchError?: { readonly step: string; readonly message: string };
  /** What ended it. */
  readonly reason: 'exited' | 'destroyed' | 'killed';
}

export interface DomainInfo {
  readonly domid: number;
  readonly name: string;
  readonly pid: number;
  readonly uid: number;
  readonly cgroup: string | undefined;
  readonly limits: DomainBrokerLimits;
  readonly state: DomainState;
}

export class Domain implements DomainInfo {
  /** @internal */ stateValue: DomainState = 'running';
  /** @internal */ exitValue: DomainExit | undefined;
  private stderrTail = '';
  private resolveReleased!: (exit: DomainExit) => void;
  /** Resolves once the domain is dead and everything it held is released. */
  readonly released: Promise<DomainExit>;

  /** @internal */
  constructor(
    readonly domid: number,
    readonly name: string,
    readonly pid: number,
    readonly uid: number,
    readonly cgroup: string | undefined,
    readonly limits: DomainBrokerLimits,
    /** The guest's stdout when created with stdout: 'pipe'. */
    readonly stdout: Readable | null,
  ) {
    this.released = new Promise((resolve) => {
      this.resolveReleased = resolve;
    });
  }

  get state(): DomainState {
    return this.stateValue;
  }

  /** Set once released. */
  get exit(): DomainExit | undefined {
    return this.exitValue;
  }

  /** The last 4 KiB the launcher and guest wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** @internal */
  appendStderr(chunk: string): void {
    this.stderrTail = (this.stderrTail + chunk).slice(-4096);
  }

  /** @internal */
  markReleased(exit: DomainExit): void {
    this.exitValue = exit;
    this.stateValue = 'released';
    this.resolveReleased(exit);
  }

  toJSON(): DomainInfo {
    return { domid: this.domid, name: this.name, pid: this.pid, uid: this.uid, cgroup: this.cgroup, limits: this.limits, state: this.state };
  }
}

/** Parses the launcher's "vpio-launch: STEP: reason" line out of stderr. */
export function parseLaunchError(stderr: string): { step: string; message: string } | undefined {
  const m = /^vpio-launch: ([a-z-]+): (.*)$/m.exec(stderr);
  return m ? { step: m[1] ?? '', message: m[0] } : undefined;
}
