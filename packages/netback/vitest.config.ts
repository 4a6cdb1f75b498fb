import { vpioVitestConfig } from '@vpio/devkit/vitest';

// The netfront test guest (build/test/nf-guest) is built once per run, before any file starts guests.
export default vpioVitestConfig({ test: { globalSetup: ['test/global-setup.ts'] } });
