import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONTROL_SOCKET_NAME, LOG_FILE_NAME, PID_FILE_NAME } from './protocol.js';

/** --dir, else $VPIO_DIR, else /run/vpio (root) or $XDG_RUNTIME_DIR/vpio, else $TMPDIR/vpio-<uid>. */
export function platformDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.VPIO_DIR) return resolve(env.VPIO_DIR);
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) return '/run/vpio';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'vpio');
  return join(tmpdir(), `vpio-${uid}`);
}

export const socketPath = (dir: string): string => join(dir, CONTROL_SOCKET_NAME);
export const pidPath = (dir: string): string => join(dir, PID_FILE_NAME);
/** The platform's log, beside (not in) its 0700 dir so a failed start can still be read. */
export const logPath = (dir: string): string => join(dir, LOG_FILE_NAME);
