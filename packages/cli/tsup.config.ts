import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({ index: 'src/index.ts', 'test-utils': 'src/test-utils.ts', 'bin/vpio': 'src/bin/vpio.ts', 'bench/platform-bench': 'bench/platform-bench.ts' });
