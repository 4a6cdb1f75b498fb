/**
 * @vpio/netfront: the frontend core every vpio guest uses is C
 * (include/vpio/netfront.h, csrc/). This module tells build scripts where
 * it lives; the Node binding (a Node program as a guest) comes next.
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
  /** The static library `make all` builds (core + host ops), for host guests. */
  readonly library: string;
}

export const netfrontSources: NetfrontSources = Object.freeze({
  includeDir: join(root, 'include'),
  core: ['nf_parse.c', 'nf_handshake.c', 'nf_data.c'].map((f) => join(root, 'csrc', f)),
  host: ['host_grant_static.c', 'host_evtchn_static.c'].map((f) => join(root, 'csrc', f)),
  library: join(root, 'build', 'lib', 'libvpio_netfront.a'),
});
