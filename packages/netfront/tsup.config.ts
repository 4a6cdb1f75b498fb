import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'test-utils': 'src/test-utils.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', 'test-utils': 'src/test-utils.ts' } },
  target: 'node20',
  platform: 'node',
  external: ['@vpio/devkit'],
  clean: true,
  sourcemap: true,
});
