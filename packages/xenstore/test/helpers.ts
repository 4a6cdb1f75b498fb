// Shared fixtures of this package's tests: the engine without sockets, a
// daemon on a socket in a fresh temp dir, and the real xenstore-utils run
// against it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenstoreDaemon, type XenstoreDaemonOptions } from '../src/daemon.js';
import { XenstoreClient } from '../src/client.js';
import { XenstoreEngine, type XenstoreLogEntry } from '../src/engine.js';
import { XS, type XenstoreQuotas, type XsMessageType } from '../src/protocol.js';
import type { XsMessage } from '../src/wire.js';

export interface DaemonFixture {
  daemon: XenstoreDaemon;
  dir: string;
  path: string;
  client(): Promise<XenstoreClient>;
  close(): Promise<void>;
}

export async function startDaemon(options: Omit<XenstoreDaemonOptions, 'socketPath'> = {}): Promise<DaemonFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'vpio-xs-'));
  const path = join(dir, 'socket');
  const daemon = new XenstoreDaemon({ socketPath: path, log: () => undefined, ...options });
  await daemon.start();
  const clients: XenstoreClient[] = [];
  return {
    daemon,
    dir,
    path,
    async client() {
      const c = await XenstoreClient.connect(path);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of Debian's xenstore-* tools against `socketPath` (XENSTORED_PATH). */
export function runTool(socketPath: string, tool: string, args: string[], timeoutMs = 10_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { env: { ...process.env, XENSTORED_PATH: socketPath }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${tool} is missing: install Debian's xenstore-utils (apt-get install xenstore-utils, or npm run bootstrap as root)`));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The engine without sockets: `open(domid)` gives a connection whose
 * `call(type, payload, txId)` returns the reply's payload (an error as its
 * bare name), `ev()` the watch events since the last look, and `order()`
 * the types of everything it got (events and replies, in wire order).
 */
export function engineHarness(quotas: Partial<XenstoreQuotas> = {}) {
  const log: XenstoreLogEntry[] = [];
  const engine = new XenstoreEngine({ quotas, log: (e) => log.push(e) });
  const open = (domid = 0) => {
    const out: XsMessage[] = [];
    const wire: string[] = [];
    let closed = false;
    const conn = engine.connect({ send: (m) => { out.push(m); wire.push(m.type === XS.WATCH_EVENT ? 'event' : 'reply'); }, close: () => { closed = true; } }, domid);
    const events: string[] = [];
    const drain = () => {
      events.push(...out.filter((m) => m.type === XS.WATCH_EVENT).map((m) => m.payload.toString('latin1')));
      out.length = 0;
    };
    const call = (type: XsMessageType, payload: string, txId = 0): string => {
      drain();
      engine.handle(conn, { type: XS[type], reqId: 1, txId, payload: Buffer.from(payload, 'latin1') });
      const i = out.findIndex((m) => m.type !== XS.WATCH_EVENT);
      const reply = out.splice(i, 1)[0];
      if (!reply) throw new Error('no reply');
      const text = reply.payload.toString('latin1');
      return reply.type === XS.ERROR ? text.replace(/\0$/, '') : text;
    };
    const ev = () => {
      drain();
      return events.splice(0);
    };
    const order = () => wire.splice(0);
    return { conn, call, ev, out, order, isClosed: () => closed };
  };
  return { engine, open, log };
}

