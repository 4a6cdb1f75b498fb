/**
 * minios-paths.ts - where the minios guest's builds live, for `vpio run
 * --minios` (both modes) and the demo.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VpioError } from '@vpio/errors';

/**
 * Where the minios guest lives. Resolved at run time (not a dependency of
 * @vpio/cli: minios's platform tests depend on the CLI, and turbo's graph
 * must stay acyclic); `npm run demo` builds every workspace first.
 *   binary   the host-mode guest (a process)
 *   pvImage  the Xen PV kernel (xen mode), when it is built
 * `which` names the one the caller needs: it must exist.
 */
export function miniosPaths(which: 'binary' | 'pvImage' = 'binary'): { binary: string; pvImage: string; configs: string } {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('@vpio/minios/package.json'));
  } catch {
    throw new VpioError('DEMO_NO_MINIOS', 'the minios guest (@vpio/minios) is not installed here: run vpio from the vpio repository');
  }
  const paths = { binary: join(root, 'build', 'vpio-minios'), pvImage: join(root, 'build', 'vpio-minios-pv'), configs: join(root, 'configs') };
  const need = paths[which];
  if (!existsSync(need)) {
    throw new VpioError('DEMO_NO_MINIOS', `${need} is not built: run \`npm run build\`${which === 'pvImage' ? ' on an x86_64 host with libxen-dev (the PV image is built with make -C minios pv)' : ' (or npm run demo, which builds first)'}`);
  }
  return paths;
}
