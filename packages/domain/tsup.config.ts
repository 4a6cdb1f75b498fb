import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({
  index: 'src/index.ts',
  'bin/vpiod': 'src/bin/vpiod.ts',
  'bench/domain-bench': 'bench/domain-bench.ts',
});
