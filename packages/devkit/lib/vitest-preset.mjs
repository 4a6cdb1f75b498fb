// The vitest settings every vpio package shares. A package's
// vitest.config.ts is one line:  export default vpioVitestConfig();
import { defineConfig } from 'vitest/config';

/** Where the JSON report goes, relative to the package; `npm test` sums these. */
export const VITEST_REPORT = '.test-results/vitest.json';

const JSON_REPORTER = /** @type {const} */ (['json', { outputFile: VITEST_REPORT }]);

/**
 * @param {import('vitest/config').UserConfig} [overrides]
 *   merged over the preset; keys of `overrides.test` replace the preset's.
 *   Replaced reporters still get the JSON reporter added: without its report
 *   `npm test` counts the package as failed.
 * @returns {import('vitest/config').UserConfig}
 */
export function vpioVitestConfig(overrides = {}) {
  const { test = {}, ...rest } = overrides;
  const reporters = test.reporters === undefined ? ['default'] : [test.reporters].flat();
  const hasJson = reporters.some((r) => r === 'json' || (Array.isArray(r) && r[0] === 'json'));
  return defineConfig({
    ...rest,
    test: {
      include: ['test/**/*.test.ts'],
      // Suites start real processes and C programs: generous limits, and
      // child processes (not worker threads) so a crash stays in its file.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      ...test,
      reporters: hasJson ? reporters : [...reporters, JSON_REPORTER],
    },
  });
}
