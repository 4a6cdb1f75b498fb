/**
 * The command line of vpio-xs-replay, as a function so tests drive it
 * without a build:
 *
 *   vpio-xs-replay [--socket PATH] [--skip TAG]... [--timeout MS] [--json] stream.json...
 *
 * Prints TAP ("ok N - name", "not ok N - name" with "# why" lines, skips
 * as "ok N - name # SKIP requires X"), or one JSON record per stream with
 * --json. Exit status: 0 when every stream passed or was skipped, 1 when
 * one failed, 2 for a usage error.
 */
import { parseArgs } from 'node:util';
import { defaultSocketPath } from './client.js';
import { loadStream, replayStream, type StreamResult } from './replay.js';

export const REPLAY_USAGE = `usage: vpio-xs-replay [--socket PATH] [--skip TAG]... [--timeout MS] [--json] stream.json...

Replays recorded xenstore request/reply streams against a daemon and
reports every difference. The socket defaults to where libxenstore looks
($XENSTORED_PATH, $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket).
--skip TAG skips streams that require TAG (e.g. vpio-demote, which only
vpio-xenstored implements).
`;

export async function runReplayCli(argv: readonly string[], write: (s: string) => void): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        socket: { type: 'string' },
        skip: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    write(`vpio-xs-replay: ${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  if (values.help) {
    write(REPLAY_USAGE);
    return 0;
  }
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    write(`vpio-xs-replay: --timeout expects a positive number of milliseconds, got ${JSON.stringify(values.timeout)}\n`);
    return 2;
  }
  if (positionals.length === 0) {
    write(`vpio-xs-replay: no stream files given\n${REPLAY_USAGE}`);
    return 2;
  }
  const socketPath = values.socket ?? defaultSocketPath();
  const results: StreamResult[] = [];
  for (const [i, file] of positionals.entries()) {
    let result: StreamResult;
    try {
      result = await replayStream(await loadStream(file), { socketPath, timeoutMs, skip: values.skip ?? [] });
    } catch (e) {
      result = { name: file, status: 'fail', failures: [(e as Error).message], steps: 0 };
    }
    results.push(result);
    if (values.json) {
      write(`${JSON.stringify({ file, ...result })}\n`);
    } else if (result.status === 'skip') {
      write(`ok ${i + 1} - ${result.name} # SKIP ${result.reason ?? ''}\n`);
    } else {
      write(`${result.status === 'ok' ? 'ok' : 'not ok'} ${i + 1} - ${result.name} (${result.steps} steps)\n`);
      for (const f of result.failures) write(`# ${f}\n`);
    }
  }
  if (!values.json) write(`1..${results.length}\n`);
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
