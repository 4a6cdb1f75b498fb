import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'bin/vpio': 'src/bin/vpio.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  target: 'node20',
  platform: 'node',
  external: ['@vpio/devkit'],
  clean: true,
  sourcemap: true,
});
