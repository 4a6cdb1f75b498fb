/**
 * The command line of vpio-xs-replay, as a function so tests drive it
 * without a build:
 *
 *   vpio-xs-replay [--socket PATH] [--skip TAG]... [--timeout MS] [--json]
 *                  [--record FILE [--label NAME]] stream.json...
 *   vpio-xs-replay --diff A.json B.json
 *
 * Prints TAP ("ok N - name", "not ok N - name" with "# why" lines, skips
 * as "ok N - name # SKIP requires X"), or one JSON record per stream with
 * --json. --record also writes every step's normalised reply and events
 * (replay-record.ts) to FILE. --diff compares two such files stream by
 * stream and prints each differing step with both replies, as TAP.
 * Exit status: 0 when every stream passed or was skipped (--diff: no
 * stream differs), 1 when one failed (differs), 2 for a usage error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultSocketPath } from './client.js';
import { loadStream, replayStream, type StreamResult } from './replay.js';
import { diffRuns, formatDifference, RECORD_FORMAT, type RunRecord, type StreamRecord } from './replay-record.js';

export const REPLAY_USAGE = `usage: vpio-xs-replay [--socket PATH] [--skip TAG]... [--timeout MS] [--json]
                      [--record FILE [--label NAME]] stream.json...
       vpio-xs-replay --diff A.json B.json

Replays recorded xenstore request/reply streams against a daemon and
reports every difference. The socket defaults to where libxenstore looks
($XENSTORED_PATH, $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket).
--skip TAG skips streams that require TAG (e.g. vpio-demote, which only
vpio-xenstored implements).
--record FILE writes each step's actual reply and watch events, with
transaction ids, DIRECTORY_PART generations and CONTROL output
normalised, and replays past differing steps; --label names the daemon.
--diff A B compares two such records and prints every step that differs.
`;

async function readRun(file: string): Promise<RunRecord> {
  const run = JSON.parse(await readFile(file, 'utf8')) as Partial<RunRecord>;
  if (run.format !== RECORD_FORMAT || !Array.isArray(run.streams) || typeof run.label !== 'string') {
    throw new Error(`${file} is not a ${RECORD_FORMAT} record`);
  }
  return run as RunRecord;
}

/** --diff: TAP over the streams of two records; 1 when any differs or is missing. */
async function runDiff(files: readonly string[], write: (s: string) => void): Promise<number> {
  if (files.length !== 2) {
    write(`vpio-xs-replay: --diff takes two record files, got ${files.length}\n${REPLAY_USAGE}`);
    return 2;
  }
  let a: RunRecord;
  let b: RunRecord;
  try {
    a = await readRun(files[0] as string);
    b = await readRun(files[1] as string);
  } catch (e) {
    write(`vpio-xs-replay: ${(e as Error).message}\n`);
    return 2;
  }
  const labelB = b.label === a.label ? `${b.label} (B)` : b.label;
  const diffs = diffRuns(a, b);
  let bad = 0;
  for (const [i, d] of diffs.entries()) {
    if (d.status === 'skip') {
      write(`ok ${i + 1} - ${d.name} # SKIP ${d.reason ?? ''}\n`);
    } else if (d.status === 'same') {
      write(`ok ${i + 1} - ${d.name} (${d.steps} steps alike)\n`);
    } else {
      bad++;
      write(`not ok ${i + 1} - ${d.name} (${d.status === 'missing' ? d.reason : `${d.differences.length} of ${d.steps} steps differ`})\n`);
      for (const diff of d.differences) for (const line of formatDifference(diff, a.label, labelB)) write(`# ${line}\n`);
    }
  }
  write(`1..${diffs.length}\n`);
  return bad > 0 ? 1 : 0;
}

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
        record: { type: 'string' },
        label: { type: 'string' },
        diff: { type: 'boolean' },
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
  if (values.diff) return runDiff(positionals, write);
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
  const record = values.record !== undefined;
  const results: StreamResult[] = [];
  const records: StreamRecord[] = [];
  for (const [i, file] of positionals.entries()) {
    let result: StreamResult;
    try {
      result = await replayStream(await loadStream(file), { socketPath, timeoutMs, skip: values.skip ?? [], record, file });
    } catch (e) {
      result = { name: file, status: 'fail', failures: [(e as Error).message], steps: 0 };
    }
    results.push(result);
    if (record) records.push(result.record ?? { name: result.name, file, status: result.status, failures: result.failures, steps: [] });
    if (values.json) {
      const { record: _omitted, ...summary } = result;
      write(`${JSON.stringify({ file, ...summary })}\n`);
    } else if (result.status === 'skip') {
      write(`ok ${i + 1} - ${result.name} # SKIP ${result.reason ?? ''}\n`);
    } else {
      write(`${result.status === 'ok' ? 'ok' : 'not ok'} ${i + 1} - ${result.name} (${result.steps} steps)\n`);
      for (const f of result.failures) write(`# ${f}\n`);
    }
  }
  if (!values.json) write(`1..${results.length}\n`);
  if (values.record !== undefined) {
    const run: RunRecord = { format: RECORD_FORMAT, label: values.label ?? socketPath, streams: records };
    try {
      await writeFile(values.record, `${JSON.stringify(run, null, 1)}\n`);
    } catch (e) {
      write(`vpio-xs-replay: cannot write the record: ${(e as Error).message}\n`);
      return 2;
    }
  }
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
