/**
 * Capture: a tap on one switch port (C: vpio/switch.h "Packet capture").
 * The workers copy frames into per-worker rings in C; read() drains every
 * waiting record with one call into the addon (one Buffer) and slices it
 * here, so nothing crosses N-API per packet.
 */
import { VpioError } from '@vpio/errors';
import type { NativeCapture, NativeCaptureRecordLayout } from './native.js';

export type CaptureDirection = 'in' | 'out' | 'both';

export interface CaptureOptions {
  /** Bytes kept of each frame, 1..65535 (default 65535: whole frames). */
  readonly snaplen?: number;
  /** Ring memory, split over the workers (default 4 MiB; 4 KiB..1 GiB). */
  readonly bufferBytes?: number;
  /** 'in': frames the port sent; 'out': frames delivered to it; 'both' (default). */
  readonly direction?: CaptureDirection;
}

export interface CapturedFrame {
  /** CLOCK_REALTIME in ns, taken once per switch batch. */
  readonly tsNs: bigint;
  /** The frame's length on the wire; data may be shorter (snaplen). */
  readonly origLen: number;
  /** The first min(origLen, snaplen) bytes: a view into the read's one Buffer. */
  readonly data: Buffer;
  readonly direction: 'in' | 'out';
}

export interface CaptureRead {
  readonly frames: CapturedFrame[];
  /** Frames lost because the capture ring was full, since the capture started. */
  readonly drops: number;
  /** false once the capture was stopped or its port removed: nothing more will come. */
  readonly attached: boolean;
}

/** Splits the addon's record buffer (struct vsw_cap_rec + data + padding, back to back) into frames. */
export function parseCaptureRecords(buf: Buffer, layout: NativeCaptureRecordLayout): CapturedFrame[] {
  const frames: CapturedFrame[] = [];
  let off = 0;
  while (off + layout.bytes <= buf.length) {
    const capLen = buf.readUInt16LE(off + layout.capLenOffset);
    const start = off + layout.bytes;
    frames.push({
      tsNs: buf.readBigUInt64LE(off + layout.tsNsOffset),
      origLen: buf.readUInt32LE(off + layout.origLenOffset),
      data: buf.subarray(start, start + capLen),
      direction: buf[off + layout.dirOffset] === layout.dirIn ? 'in' : 'out',
    });
    off = start + Math.ceil(capLen / layout.align) * layout.align;
  }
  return frames;
}

export class Capture implements Disposable {
  /** The captured port's id. */
  readonly port: number;
  readonly snaplen: number;
  readonly direction: CaptureDirection;
  readonly #native: NativeCapture;
  readonly #layout: NativeCaptureRecordLayout;
  #stopped = false;
  #drops = 0;

  /** @internal Made by Switch.startCapture(). */
  constructor(native: NativeCapture, layout: NativeCaptureRecordLayout, port: number, snaplen: number, direction: CaptureDirection) {
    this.#native = native;
    this.#layout = layout;
    this.port = port;
    this.snaplen = snaplen;
    this.direction = direction;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Every frame waiting, oldest first (merged over the workers by timestamp). Throws CAPTURE_STOPPED after stop(). */
  read(): CaptureRead {
    if (this.#stopped) throw new VpioError('CAPTURE_STOPPED', `the capture of port ${this.port} is stopped`);
    return this.#read();
  }

  /**
   * Unhooks the tap (returns once no worker writes it), returns what was
   * still waiting, and frees it. Idempotent (later calls return nothing).
   */
  stop(): CaptureRead {
    if (this.#stopped) return { frames: [], drops: this.#drops, attached: false };
    this.#native.stop();
    const last = this.#read();
    this.#stopped = true;
    this.#native.close();
    return last;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #read(): CaptureRead {
    const r = this.#native.read();
    this.#drops = r.drops;
    return { frames: parseCaptureRecords(r.data, this.#layout), drops: r.drops, attached: r.attached && !this.#stopped };
  }
}
