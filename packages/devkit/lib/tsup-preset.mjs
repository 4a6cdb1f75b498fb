/**
 * The one tsup configuration of vpio's TypeScript packages: ESM for Node 20,
 * source maps, a clean dist/, @vpio/devkit never bundled (it finds its
 * baselines and files from its own folder), and type declarations for the
 * library entries only (not for bin/ and bench/ programs).
 */

/**
 * @param {Record<string, string>} entry  output name → source file
 * @param {{ dts?: Record<string, string>, external?: string[] }} [options]
 *   dts: the entries that get .d.ts (default: every entry not under bin/ or bench/; none: no .d.ts);
 *   external: more packages never to bundle
 */
export function vpioTsupConfig(entry, options = {}) {
  const dts =
    options.dts ??
    Object.fromEntries(Object.entries(entry).filter(([name]) => !name.startsWith('bin/') && !name.startsWith('bench/')));
  return {
    entry,
    format: ['esm'],
    dts: Object.keys(dts).length > 0 ? { entry: dts } : false,
    target: 'node20',
    platform: 'node',
    external: ['@vpio/devkit', ...(options.external ?? [])],
    clean: true,
    sourcemap: true,
  };
}
