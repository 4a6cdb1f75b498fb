import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'gen-c-header': 'src/gen-c-header.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  target: 'node20',
  platform: 'node',
  external: ['@vpio/devkit'],
  clean: true,
  sourcemap: true,
});
