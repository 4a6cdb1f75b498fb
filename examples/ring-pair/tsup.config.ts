import { vpioTsupConfig } from '@vpio/devkit/tsup';

// a program, not a library: no .d.ts
export default vpioTsupConfig({ main: 'src/main.ts' }, { dts: {} });
