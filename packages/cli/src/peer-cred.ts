/**
 * SO_PEERCRED for an accepted unix socket (build/Release/vpio_cli.node;
 * Node has no API for it). The fd comes from the net.Socket's handle.
 */
import type { Socket } from 'node:net';
import { loadAddon } from '@vpio/addon';
import { ErrnoError, VpioError } from '@vpio/errors';

export interface PeerCred {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

interface CliAddon {
  peerCred(fd: number): PeerCred | number;
}

let addon: CliAddon | undefined;

function native(): CliAddon {
  addon ??= loadAddon<CliAddon>({ packageName: '@vpio/cli', addonName: 'vpio_cli', fromUrl: import.meta.url, code: 'CLI_ADDON_MISSING' });
  return addon;
}

/** The credentials the kernel recorded when the peer connected. Throws ErrnoError CLI_PEERCRED. */
export function peerCred(socket: Socket): PeerCred {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new VpioError('CLI_PEERCRED', 'the accepted socket has no descriptor');
  const r = native().peerCred(fd);
  if (typeof r === 'number') throw new ErrnoError('CLI_PEERCRED', -r, `getsockopt(SO_PEERCRED) on fd ${fd}`);
  return r;
}
