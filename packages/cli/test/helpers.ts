/**
 * This package's test fixtures: the shared ones from @vpio/cli/test-utils
 * (the built command, its runner, a private platform directory, /proc
 * probes), with this package's root.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempBase as tempBaseWith } from '@vpio/cli/test-utils';

export { VPIO_BIN as VPIO, alive, vpio, type Run } from '@vpio/cli/test-utils';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A fresh base directory (0755 so `nobody` can reach into it when a test opens it up); DIR is base/run. */
export const tempBase = (): ReturnType<typeof tempBaseWith> => tempBaseWith('vpio-cli-');
