import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({ index: 'src/index.ts', 'bench/grant-bench': 'bench/grant-bench.ts' });
