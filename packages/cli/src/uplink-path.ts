/**
 * Where vpio-uplink is: $VPIO_UPLINK, else @vpio/uplink's build/vpio-uplink
 * (found by package name, as linux-guest.ts finds vpio-linux-netfront: the
 * CLI needs the binary, not the package's JavaScript).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CliError } from './cli-error.js';

export function uplinkBinaryPath(): string {
  const fromEnv = process.env.VPIO_UPLINK;
  if (fromEnv) return fromEnv;
  let path: string | undefined;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve('@vpio/uplink/package.json')), 'build', 'vpio-uplink');
  } catch {
    path = undefined;
  }
  if (!path || !existsSync(path)) {
    throw new CliError('CLI_UPLINK', 'vpio-uplink is not built: run `npx turbo run build --filter=@vpio/uplink` (or set VPIO_UPLINK)');
  }
  return path;
}
