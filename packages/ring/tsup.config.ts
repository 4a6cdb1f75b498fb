import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({
  index: 'src/index.ts',
  pair: 'src/pair.ts',
  'bench/ring-bench': 'bench/ring-bench.ts',
});
