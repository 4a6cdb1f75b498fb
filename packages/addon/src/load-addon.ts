/**
 * Every vpio package with C code ships a node-gyp addon in
 * build/Release/<name>.node. Its TypeScript runs from src/ (under vitest)
 * and from dist/ (bundled by tsup), so the addon is found from the package
 * root: the nearest package.json above the calling module that carries the
 * package's name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VpioError } from '@vpio/errors';

/**
 * The folder of the package.json named `packageName` at or above `fromUrl`
 * (a module's import.meta.url or a path). Throws VpioError `code`.
 */
export function packageRoot(packageName: string, fromUrl: string, code = 'ADDON_MISSING'): string {
  const from = fromUrl.startsWith('file:') ? dirname(fileURLToPath(fromUrl)) : fromUrl;
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === packageName) return dir;
      } catch {
        // not a readable manifest: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new VpioError(code, `no package.json named ${packageName} above ${from}`);
    dir = up;
  }
}

export interface LoadAddonOptions {
  /** The package that owns the addon, e.g. '@vpio/grant'. */
  readonly packageName: string;
  /** The addon's target name in binding.gyp, e.g. 'vpio_grant'. */
  readonly addonName: string;
  /** import.meta.url of the calling module. */
  readonly fromUrl: string;
  /** The VpioError code thrown when it cannot be found or loaded. */
  readonly code?: string;
}

/**
 * Loads build/Release/<addonName>.node of the package. Throws a VpioError
 * (code `options.code`, default 'ADDON_MISSING') that tells the user how to
 * build it, with the loader's error as cause.
 */
export function loadAddon<T>(options: LoadAddonOptions): T {
  const code = options.code ?? 'ADDON_MISSING';
  const root = packageRoot(options.packageName, options.fromUrl, code);
  const path = join(root, 'build', 'Release', `${options.addonName}.node`);
  try {
    return createRequire(join(root, 'package.json'))(path) as T;
  } catch (cause) {
    throw new VpioError(code, `cannot load ${path}: build it with \`npm run build -w ${options.packageName}\``, {
      cause,
    });
  }
}
