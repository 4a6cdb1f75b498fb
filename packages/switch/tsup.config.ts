import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'bench/switch-bench': 'bench/switch-bench.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  target: 'node20',
  platform: 'node',
  // devkit is dev tooling found from its own folder: never bundle it
  external: ['@vpio/devkit', '@vpio/domain'],
  clean: true,
  sourcemap: true,
});
