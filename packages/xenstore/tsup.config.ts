import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({
  index: 'src/index.ts',
  'bin/vpio-xenstored': 'src/bin/vpio-xenstored.ts',
  'bin/vpio-xs-replay': 'src/bin/vpio-xs-replay.ts',
  'bench/xenstore-bench': 'bench/xenstore-bench.ts',
});
