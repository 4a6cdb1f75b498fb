/**
 * Guest consoles: what each domain writes to stdout, kept by the platform in
 * a bounded per-domain buffer (the newest CONSOLE_BYTES; older bytes are
 * dropped and counted), read by `vpio console`. Offsets are absolute byte
 * positions in the domain's output since it started, so a follower asks
 * for "everything after offset N" and learns how much it missed.
 * A domain's console outlives the domain (the last RETAINED_ENDED ended
 * ones are kept) so its last words can still be read.
 */
import type { Readable } from 'node:stream';
import type { ConsoleResult } from './protocol.js';

export const CONSOLE_BYTES = 256 * 1024;
const RETAINED_ENDED = 32;

export class ConsoleBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** Bytes dropped from the front (the absolute offset of the first kept byte). */
  #dropped = 0;
  readonly #cap: number;

  constructor(cap = CONSOLE_BYTES) {
    this.#cap = cap;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > this.#cap) {
      const over = this.#bytes - this.#cap;
      const first = this.#chunks[0]!;
      if (first.length <= over) {
        this.#chunks.shift();
        this.#bytes -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(over);
        this.#bytes -= over;
        this.#dropped += over;
      }
    }
  }

  /** The kept bytes at absolute offsets >= since, and where they end. */
  read(since = 0): { data: Buffer; start: number; end: number; dropped: number } {
    const all = Buffer.concat(this.#chunks);
    const start = Math.max(since, this.#dropped);
    const end = this.#dropped + this.#bytes;
    return { data: start >= end ? Buffer.alloc(0) : all.subarray(start - this.#dropped), start: Math.min(start, end), end, dropped: this.#dropped };
  }
}

interface Entry {
  readonly domid: number;
  readonly name: string;
  readonly buffer: ConsoleBuffer;
  alive: boolean;
  exit: { code: number | null; signal: string | null; reason: string } | undefined;
  stderr: () => string;
}

/** Every domain's console, live and recently ended. */
export class Consoles {
  readonly #entries: Entry[] = [];

  /** Starts keeping `stdout` (null: the domain has no stdout pipe). */
  attach(domid: number, name: string, stdout: Readable | null, stderr: () => string): void {
    const e: Entry = { domid, name, buffer: new ConsoleBuffer(), alive: true, exit: undefined, stderr };
    this.#entries.push(e);
    stdout?.on('data', (c: Buffer | string) => e.buffer.append(typeof c === 'string' ? Buffer.from(c) : c));
    stdout?.on('error', () => undefined);
  }

  /** The domain ended: its console stays readable until RETAINED_ENDED newer ones ended. */
  ended(domid: number, exit: { code: number | null; signal: string | null; reason: string }): void {
    const e = this.#entries.find((x) => x.domid === domid && x.alive);
    if (!e) return;
    e.alive = false;
    e.exit = { code: exit.code, signal: exit.signal, reason: exit.reason };
    const ended = this.#entries.filter((x) => !x.alive);
    for (const old of ended.slice(0, Math.max(0, ended.length - RETAINED_ENDED))) this.#entries.splice(this.#entries.indexOf(old), 1);
  }

  /** By name (the live one first, else the newest ended one) or by domid when all digits. */
  find(name: string): Entry | undefined {
    const match = (x: Entry): boolean => x.name === name || (/^[0-9]+$/.test(name) && x.domid === Number(name));
    return this.#entries.find((x) => x.alive && match(x)) ?? [...this.#entries].reverse().find(match);
  }

  names(): string[] {
    return [...new Set(this.#entries.map((x) => x.name))];
  }

  /** What `e` wrote after absolute offset `since` (the kept part of it). */
  read(e: Entry, since: number): ConsoleResult {
    const { data, start, end, dropped } = e.buffer.read(since);
    return {
      domid: e.domid,
      name: e.name,
      alive: e.alive,
      exit: e.exit,
      start,
      end,
      dropped,
      missed: Math.max(0, Math.min(dropped, end) - since),
      text: data.toString('utf8'),
      stderr: e.stderr(),
    };
  }
}
