/**
 * The client side of `vpio capture`: one control connection, a `capture`
 * streaming request, and the frames written as a pcap file (pcap.ts), as
 * pcap on stdout (`-w -`), or as one text line per frame (no -w). Ctrl-C
 * (SIGINT/SIGTERM) sends `capture-stop` so the platform stops the capture
 * in the switch and flushes what it holds; a second one quits at once (the
 * platform stops the capture when the connection closes). The summary
 * goes to stderr, or as JSON with --json.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { ControlClient } from './control-client.js';
import { socketPath } from './paths.js';
import { PcapWriter } from './pcap.js';
import type { CaptureArgs, CaptureEvent, CaptureFrameWire, CaptureResult } from './protocol.js';

export interface CaptureCommandOptions {
  readonly dir: string;
  readonly port: string;
  /** A pcap file, '-' for pcap on stdout, undefined for text lines. */
  readonly file?: string;
  readonly count?: number;
  readonly durationMs?: number;
  readonly snaplen?: number;
  readonly direction?: 'in' | 'out' | 'both';
  readonly json?: boolean;
}

export interface CaptureSummary extends CaptureResult {
  readonly file: string | undefined;
}

function mac(b: Buffer, off: number): string {
  return [...b.subarray(off, off + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** One text line per frame: time (UTC, ns), direction, src > dst, EtherType, length. */
export function formatFrameLine(f: CaptureFrameWire): string {
  const [ts, origLen, dir, b64] = f;
  const data = Buffer.from(b64, 'base64');
  const ns = BigInt(ts);
  const time = `${new Date(Number(ns / 1_000_000n)).toISOString().slice(11, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
  const addr = data.length >= 12 ? `${mac(data, 6)} > ${mac(data, 0)}` : '(short frame)';
  const type = data.length >= 14 ? `0x${data.readUInt16BE(12).toString(16).padStart(4, '0')}` : '-';
  return `${time} ${dir.padEnd(3)} ${addr} ethertype ${type} length ${origLen}`;
}

export async function runCaptureCommand(o: CaptureCommandOptions, io: { stdout: Writable; stderr: Writable }): Promise<CaptureSummary> {
  const client = await ControlClient.connect(socketPath(o.dir), o.dir);
  let writer: PcapWriter | undefined;
  let written = 0;
  let drops = 0;
  const write = (frames: readonly CaptureFrameWire[]): void => {
    for (const f of frames) {
      if (o.count !== undefined && written >= o.count) return;
      written++;
      if (writer) writer.frame(BigInt(f[0]), f[1], Buffer.from(f[3], 'base64'));
      else io.stdout.write(`${formatFrameLine(f)}\n`);
    }
  };
  const onEvent = (e: CaptureEvent): void => {
    if (e.event === 'started') {
      if (o.file === '-') writer = new PcapWriter(io.stdout, e.snaplen, false);
      else if (o.file !== undefined) writer = new PcapWriter(createWriteStream(o.file), e.snaplen);
      if (!o.json || o.file === '-') io.stderr.write(`vpio capture: capturing on ${e.label} (port ${e.port}), ${e.direction}, snaplen ${e.snaplen}\n`);
    } else {
      drops = e.drops;
      write(e.frames);
    }
  };
  const report = (summary: CaptureSummary): CaptureSummary => {
    if (o.json) (o.file === '-' ? io.stderr : io.stdout).write(`${JSON.stringify(summary)}\n`);
    else io.stderr.write(`${summary.packets} packets captured, ${summary.drops} dropped by the capture buffer\n`);
    return summary;
  };
  const args: CaptureArgs = { port: o.port, snaplen: o.snaplen, direction: o.direction, count: o.count, durationMs: o.durationMs };
  const req = client.requestStream<CaptureResult>('capture', args, onEvent);
  let interrupts = 0;
  const onSignal = (): void => {
    if (interrupts++ === 0) void client.request('capture-stop', { id: req.id }).catch(() => undefined);
    else client.close(); // the platform stops the capture when the connection closes
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await req.done;
    await writer?.end();
    return report({ ...r, packets: written, file: o.file });
  } catch (e) {
    await writer?.end().catch(() => undefined);
    if (interrupts > 1) return report({ port: -1, label: o.port, packets: written, drops, reason: 'closed', file: o.file });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    client.close();
  }
}
