import { describe, expect, it } from 'vitest';
import { VITEST_REPORT, vpioVitestConfig } from '../lib/vitest-preset.mjs';

describe('vpioVitestConfig', () => {
  it('gives every package the shared settings and the JSON report npm test reads', () => {
    expect(vpioVitestConfig().test).toEqual({
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
    });
    expect(VITEST_REPORT).toBe('.test-results/vitest.json');
  });

  it('lets a package replace settings but keeps the JSON report', () => {
    const config = vpioVitestConfig({ test: { include: ['test/**/*.spec.ts'], reporters: 'verbose' }, cacheDir: 'x' });
    expect(config.test?.include).toEqual(['test/**/*.spec.ts']);
    expect(config.test?.pool).toBe('forks');
    expect(config.test?.reporters).toEqual(['verbose', ['json', { outputFile: '.test-results/vitest.json' }]]);
    expect(config.cacheDir).toBe('x');
  });

  it('does not add a second JSON reporter', () => {
    const json: ['json', { outputFile: string }] = ['json', { outputFile: 'elsewhere.json' }];
    expect(vpioVitestConfig({ test: { reporters: ['dot', json] } }).test?.reporters).toEqual(['dot', json]);
  });
});
