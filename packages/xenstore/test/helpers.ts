// Shared fixtures of this package's tests: a daemon on a socket in a fresh
// temp dir, and the real xenstore-utils run against it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenstoreDaemon, type XenstoreDaemonOptions } from '../src/daemon.js';
import { XenstoreClient } from '../src/client.js';

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
