import { vpioVitestConfig } from '@vpio/devkit/vitest';

// Each scenario loads the whole host (switch, guests in traffic): one file at a time.
export default vpioVitestConfig({ test: { fileParallelism: false } });
