import { vpioVitestConfig } from '@vpio/devkit/vitest';

// --expose-gc: test/grant-memory.test.ts forces collections (gc()) to show
// that a port's memory outlives every JS reference the caller held.
export default vpioVitestConfig({ test: { poolOptions: { forks: { execArgv: ['--expose-gc'] } } } });
