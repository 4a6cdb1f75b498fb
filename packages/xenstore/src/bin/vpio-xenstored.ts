#!/usr/bin/env node
/**
 * vpio-xenstored --socket PATH [--verbose]
 * Runs the xenstore daemon until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { XenstoreDaemon } from '../daemon.js';
import { formatLogEntry } from '../engine.js';
import { SOCKET_PATH_ENV } from '../protocol.js';

const HELP = `usage: vpio-xenstored --socket PATH [--verbose]

Serves Xen's xenstore wire protocol (4.17) on a unix socket. Every
connection is dom0; point Debian's xenstore-utils at it with
  ${SOCKET_PATH_ENV}=PATH xenstore-ls /

  --socket PATH   where to listen (a stale socket file is replaced)
  --verbose       log connections, domains and quota hits to stderr
  --help          this text
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { socket: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`vpio-xenstored: ${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.socket) {
    process.stderr.write(`vpio-xenstored: --socket PATH is required\n${HELP}`);
    return 2;
  }
  const daemon = new XenstoreDaemon({
    socketPath: values.socket,
    log: values.verbose ? (e) => process.stderr.write(`vpio-xenstored ${formatLogEntry(e)}\n`) : undefined,
  });
  await daemon.start();
  process.stdout.write(`vpio-xenstored: listening on ${daemon.path}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await daemon.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`vpio-xenstored: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
