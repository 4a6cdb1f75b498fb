import type { Options } from 'tsup';

/**
 * The shared tsup options: ESM, node20, source maps, clean, @vpio/devkit
 * external, .d.ts for every entry not under bin/ or bench/ unless `dts` says.
 */
export declare function vpioTsupConfig(
  entry: Record<string, string>,
  options?: { dts?: Record<string, string>; external?: string[] },
): Options;
