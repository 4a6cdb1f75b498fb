import type { UserConfig } from 'vitest/config';

/** Where the JSON report goes, relative to the package; `npm test` sums these. */
export declare const VITEST_REPORT: '.test-results/vitest.json';

/**
 * The shared vitest config: test/**\/*.test.ts, forks pool, 60 s timeouts,
 * default + JSON reporters. Keys of `overrides.test` replace the preset's.
 */
export declare function vpioVitestConfig(overrides?: UserConfig): UserConfig;
