import { vpioTsupConfig } from '@vpio/devkit/tsup';

export default vpioTsupConfig({ index: 'src/index.ts' });
