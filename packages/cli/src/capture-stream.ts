/**
 * The server side of `vpio capture`: validates a `capture` request's args
 * and streams a switch Capture to one control connection. A timer drains
 * the capture every pollMs (one addon call per drain, see @vpio/switch) and
 * sends the frames as stream lines of at most FRAMES_PER_LINE; the stream
 * ends on its count, its duration, `capture-stop`, the port going away or
 * the connection closing, and the capture is stopped in the switch then.
 * While the connection's send buffer is over MAX_BACKLOG_BYTES the drain is
 * skipped: the switch's capture ring fills and counts drops, and the
 * platform's memory stays bounded by a slow client.
 */
import { ArgumentError, expectInteger, expectOneOf } from '@vpio/errors';
import type { Capture, CaptureDirection } from '@vpio/switch';
import type { CaptureArgs, CaptureEndReason, CaptureEvent, CaptureFrameWire, CaptureResult } from './protocol.js';

export const FRAMES_PER_LINE = 256;
export const MAX_BACKLOG_BYTES = 8 << 20;
const DEFAULT_POLL_MS = 20;

/** Validates a `capture` request's args (ArgumentError names the field). */
export function parseCaptureArgs(raw: unknown): CaptureArgs {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ArgumentError('args', 'an object', raw);
  const a = raw as Record<string, unknown>;
  const port = typeof a.port === 'number' ? String(a.port) : a.port;
  if (typeof port !== 'string' || port === '') throw new ArgumentError('port', 'a switch port id or NAME[/DEVID]', a.port);
  const opt = (name: string, min: number, max: number): number | undefined => (a[name] === undefined ? undefined : expectInteger(name, a[name], min, max));
  return {
    port,
    snaplen: opt('snaplen', 1, 65535),
    direction: a.direction === undefined ? undefined : expectOneOf('direction', a.direction, ['in', 'out', 'both'] as const),
    count: opt('count', 1, Number.MAX_SAFE_INTEGER),
    durationMs: opt('durationMs', 1, 365 * 24 * 3600 * 1000),
    bufferBytes: opt('bufferBytes', 4096, 1 << 30),
  };
}

export interface CaptureStreamOptions {
  readonly capture: Capture;
  readonly port: number;
  readonly label: string;
  readonly count?: number;
  readonly durationMs?: number;
  readonly pollMs?: number;
  /** Sends one stream line. */
  readonly send: (e: CaptureEvent) => void;
  /** Bytes queued on the connection, not yet sent. */
  readonly backlogBytes: () => number;
  /** The final reply, once. */
  readonly onEnd: (r: CaptureResult) => void;
}

export class CaptureStream {
  readonly #o: CaptureStreamOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #deadline: NodeJS.Timeout | undefined;
  #packets = 0;
  #ended = false;

  constructor(options: CaptureStreamOptions) {
    this.#o = options;
    const c = options.capture;
    options.send({ event: 'started', port: options.port, label: options.label, snaplen: c.snaplen, direction: c.direction as CaptureDirection });
    this.#timer = setInterval(() => this.#tick(), options.pollMs ?? DEFAULT_POLL_MS);
    this.#deadline = options.durationMs === undefined ? undefined : setTimeout(() => this.stop('duration'), options.durationMs);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the stream: stops the capture in the switch, sends what was left and the final reply. Idempotent. */
  stop(reason: CaptureEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    if (this.#deadline) clearTimeout(this.#deadline);
    const last = this.#o.capture.stop();
    if (reason !== 'closed') this.#emit(last.frames, last.drops);
    const done = this.#o.count !== undefined && this.#packets >= this.#o.count;
    this.#o.onEnd({ port: this.#o.port, label: this.#o.label, packets: this.#packets, drops: last.drops, reason: done && reason !== 'closed' ? 'count' : reason });
  }

  #tick(): void {
    if (this.#ended || this.#o.backlogBytes() > MAX_BACKLOG_BYTES) return;
    const r = this.#o.capture.read();
    this.#emit(r.frames, r.drops);
    if (this.#o.count !== undefined && this.#packets >= this.#o.count) this.stop('count');
    else if (!r.attached) this.stop('port-removed');
  }

  #emit(frames: ReadonlyArray<{ tsNs: bigint; origLen: number; direction: 'in' | 'out'; data: Buffer }>, drops: number): void {
    const room = this.#o.count === undefined ? frames.length : Math.max(0, this.#o.count - this.#packets);
    const take = frames.length > room ? frames.slice(0, room) : frames;
    for (let i = 0; i < take.length; i += FRAMES_PER_LINE) {
      const wire: CaptureFrameWire[] = take.slice(i, i + FRAMES_PER_LINE).map((f) => [f.tsNs.toString(), f.origLen, f.direction, f.data.toString('base64')] as const);
      this.#o.send({ event: 'frames', frames: wire, drops });
    }
    this.#packets += take.length;
  }
}
