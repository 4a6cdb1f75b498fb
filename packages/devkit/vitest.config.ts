import { vpioVitestConfig } from './lib/vitest-preset.mjs';

export default vpioVitestConfig();
