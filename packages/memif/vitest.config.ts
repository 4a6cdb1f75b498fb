import { vpioVitestConfig } from '@vpio/devkit/vitest';

export default vpioVitestConfig();
