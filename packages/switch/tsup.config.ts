import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({ index: 'src/index.ts', 'bench/switch-bench': 'bench/switch-bench.ts' }, { external: ['@vpio/domain'] });
