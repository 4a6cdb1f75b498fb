/**
 * @vpio/netfront: the frontend core every vpio guest uses is C
 * (include/vpio/netfront.h, csrc/). This module tells build scripts where
 * it lives, and `Netfront` (src/netfront.ts) makes a Node program run by
 * `vpio run` a guest, through the addon (binding/netfront_addon.cc).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the C core and its host ops live, for guests that compile them in. */
export interface NetfrontSources {
  /** -I for vpio/netfront.h and vpio/netfront_host.h */
  readonly includeDir: string;
  /** The freestanding core: compile these into any guest. */
  readonly core: readonly string[];
  /** Host-mode ops (libc; link with @vpio/grant's map side and @vpio/evtchn's C side). */
  readonly host: readonly string[];
  /** Broker-backed host ops (vpio/netfront_broker.h, a `vpio run` guest; link @vpio/guest's libvpio_guest.a). */
  readonly broker: readonly string[];
  /** The static library `make all` builds (core + host ops), for host guests. */
  readonly library: string;
}

export const netfrontSources: NetfrontSources = Object.freeze({
  includeDir: join(root, 'include'),
  core: ['nf_parse.c', 'nf_handshake.c', 'nf_data.c', 'nf_zc.c'].map((f) => join(root, 'csrc', f)),
  host: ['host_grant_static.c', 'host_evtchn_static.c'].map((f) => join(root, 'csrc', f)),
  broker: [join(root, 'csrc', 'host_broker.c')],
  library: join(root, 'build', 'lib', 'libvpio_netfront.a'),
});

export { Netfront, NETFRONT_MAX_BURST, type NetfrontOpenOptions, type NetfrontStats } from './netfront.js';
