import { vpioTsupConfig } from '@vpio/devkit/tsup';

// The benchmark drives the platform through @vpio/cli's built command: it stays external.
export default vpioTsupConfig({ 'bench/linux-bench': 'bench/linux-bench.ts' }, { external: ['@vpio/cli'] });
