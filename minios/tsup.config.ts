import { vpioTsupConfig } from '@vpio/devkit/tsup';

// minios is a C program; TypeScript here is only its benchmark (bench/), bundled with
// its helpers. @vpio/cli (the platform it drives) stays external.
export default vpioTsupConfig({ 'bench/minios-bench': 'bench/minios-bench.ts' }, { external: ['@vpio/cli'] });
