import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({ index: 'src/index.ts', 'gen-c-header': 'src/gen-c-header.ts' }, { dts: { index: 'src/index.ts' } });
