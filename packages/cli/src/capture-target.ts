/**
 * What `vpio capture <port>` names, decided from the platform's state (pure):
 * a switch port id ("3"), or NAME[/DEVID] of a domain's vif (devid 0 by
 * default; a domid works for NAME too, as in `vpio destroy`).
 */
import { ArgumentError, VpioError } from '@vpio/errors';

export interface CaptureVif {
  readonly domid: number;
  readonly devid: number;
  readonly name: string | undefined;
  /** The vif's switch port, while its frontend is Connected. */
  readonly port: number | undefined;
}

export interface CaptureTarget {
  readonly port: number;
  /** "NAME/DEVID" when the port is a vif, else "port N". */
  readonly label: string;
}

/** Resolves `target`; throws ArgumentError (bad syntax) or VpioError CLI_CAPTURE (nothing there), saying what exists. */
export function resolveCaptureTarget(target: string, ports: readonly number[], vifs: readonly CaptureVif[]): CaptureTarget {
  if (typeof target !== 'string' || target === '') throw new ArgumentError('port', 'a switch port id or NAME[/DEVID]', target);
  const vifLabel = (v: CaptureVif): string => `${v.name ?? v.domid}/${v.devid}`;
  if (/^[0-9]+$/.test(target)) {
    const port = Number(target);
    if (!ports.includes(port)) {
      throw new VpioError('CLI_CAPTURE', `no switch port ${port}${ports.length ? ` (ports: ${ports.join(', ')})` : ' (no port: a vif becomes a port when its frontend connects)'}; see \`vpio stats\``);
    }
    const v = vifs.find((x) => x.port === port);
    return { port, label: v ? vifLabel(v) : `port ${port}` };
  }
  const m = /^([A-Za-z0-9_.-]+)(?:\/([0-9]+))?$/.exec(target);
  if (!m) throw new ArgumentError('port', 'a switch port id or NAME[/DEVID]', target);
  const name = m[1]!;
  const devid = m[2] === undefined ? 0 : Number(m[2]);
  const mine = vifs.filter((v) => v.name === name || (v.name === undefined && String(v.domid) === name));
  const byDomid = mine.length ? mine : vifs.filter((v) => /^[0-9]+$/.test(name) && v.domid === Number(name));
  if (byDomid.length === 0) {
    const names = [...new Set(vifs.map((v) => v.name ?? String(v.domid)))];
    throw new VpioError('CLI_CAPTURE', `no domain "${name}" with vifs${names.length ? ` (domains with vifs: ${names.join(', ')})` : ''}; see \`vpio ls\``);
  }
  const v = byDomid.find((x) => x.devid === devid);
  if (!v) throw new VpioError('CLI_CAPTURE', `domain "${name}" has no vif ${devid} (vifs: ${byDomid.map((x) => x.devid).join(', ')})`);
  if (v.port === undefined) throw new VpioError('CLI_CAPTURE', `vif ${vifLabel(v)} has no switch port yet: it becomes one when its frontend connects (see \`vpio ls\`)`);
  return { port: v.port, label: vifLabel(v) };
}
