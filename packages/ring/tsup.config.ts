import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    pair: 'src/pair.ts',
    'bench/ring-bench': 'bench/ring-bench.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', pair: 'src/pair.ts' } },
  target: 'node20',
  platform: 'node',
  // devkit is dev tooling found from its own folder (baselines, SHA256SUMS): never bundle it
  external: ['@vpio/devkit'],
  clean: true,
  sourcemap: true,
});
