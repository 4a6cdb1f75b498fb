// Run by smoke.sh in dom0: Node.js loads the repository's built native addon
// and dist/ code from the read-only 9p mount (argv[2], /vpio). Prints what it
// loaded; throws (exit 1) when something is missing.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const repo = process.argv[2] ?? '/vpio';
const addonPath = join(repo, 'packages/ring/build/Release/vpio_ring.node');
if (!existsSync(addonPath)) throw new Error(`${addonPath} is missing: build the repo first (npm run build)`);

// the raw addon, through require()
const ring = createRequire(import.meta.url)(addonPath);
const layout = ring.layout();
if (!(layout.VRING_HDR.size > 0)) throw new Error(`vpio_ring layout() returned no header size`);

// the same addon through the repo's own loader, from dist/ (ESM)
const { loadAddon } = await import(join(repo, 'packages/addon/dist/index.js'));
const viaLoader = loadAddon({ packageName: '@vpio/ring', addonName: 'vpio_ring', fromUrl: join(repo, 'packages/ring') });
if (viaLoader.layout().VRING_HDR.size !== layout.VRING_HDR.size) throw new Error('loader and require() disagree');

console.log(`vpio_ring.node loaded (require and @vpio/addon): VRING_HDR ${layout.VRING_HDR.size} bytes, node ${process.version}`);
