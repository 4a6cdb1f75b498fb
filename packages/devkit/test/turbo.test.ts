import { describe, expect, it } from 'vitest';
import { taskExitCodes, turboArgs } from '../lib/turbo.mjs';

describe('turboArgs', () => {
  it('builds the test run: stream UI, filters, serial, continue past failures, summary', () => {
    expect(
      turboArgs('test', {
        filters: ['@vpio/ring', './examples/*'],
        concurrency: 1,
        continueMode: 'dependencies-successful',
        summarize: true,
      }),
    ).toEqual([
      'run',
      'test',
      '--ui=stream',
      '--filter=@vpio/ring',
      '--filter=./examples/*',
      '--concurrency=1',
      '--continue=dependencies-successful',
      '--summarize',
    ]);
  });

  it('puts benchmark arguments after "--" so they reach the task, not turbo', () => {
    expect(turboArgs('bench', { only: true, outputLogs: 'full', logPrefix: 'none', passthrough: ['--json'] })).toEqual(
      ['run', 'bench', '--ui=stream', '--output-logs=full', '--log-prefix=none', '--only', '--', '--json'],
    );
    expect(turboArgs('build', { passthrough: [] })).toEqual(['run', 'build', '--ui=stream']);
  });
});

describe('taskExitCodes', () => {
  it('maps each task of a run summary to its exit code, cache hits to 0', () => {
    const summary = {
      tasks: [
        { taskId: '@vpio/ring#build', execution: { exitCode: 0 } },
        { taskId: '@vpio/ring#test', execution: { exitCode: 1, error: 'exited (1)' } },
        { taskId: '@vpio/errors#build', execution: null },
      ],
    };
    expect([...taskExitCodes(summary)]).toEqual([
      ['@vpio/ring#build', 0],
      ['@vpio/ring#test', 1],
      ['@vpio/errors#build', 0],
    ]);
  });
});
