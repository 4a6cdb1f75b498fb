export { loadAddon, packageRoot, type LoadAddonOptions } from './load-addon.js';
