import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'bin/vpio-xenstored': 'src/bin/vpio-xenstored.ts',
    'bin/vpio-xs-replay': 'src/bin/vpio-xs-replay.ts',
    'bench/xenstore-bench': 'bench/xenstore-bench.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
});
