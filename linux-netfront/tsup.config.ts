import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({
  'bench/linux-bench': 'bench/linux-bench.ts',
});
