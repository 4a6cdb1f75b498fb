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
  clean: true,
  sourcemap: true,
});
