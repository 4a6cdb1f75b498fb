/** Human output of the read commands (pure; --json prints the objects instead). */
import type { LsResult, StatsResult, VifRow } from './protocol.js';
import type { DoctorReport } from './doctor.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** 10000 -> "10k", 2500000 -> "2500k", 7 -> "7": the `--vif` amount syntax, exact. */
function amount(n: number): string {
  for (const [div, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (n >= div && n % div === 0) return `${n / div}${suffix}`;
  return String(n);
}

/** The VLAN column: the access VLAN, or `trunk 10+20` with ` native 30`. */
export function vlanText(v: Pick<VifRow, 'vlan' | 'policy'>): string {
  const t = v.policy?.trunk;
  if (t) return `trunk ${t.vids.join('+')}${t.nativeVid === undefined ? '' : ` native ${t.nativeVid}`}`;
  return v.vlan === undefined ? '-' : String(v.vlan);
}

/** The POLICY column, in `--vif` keys: what differs from the defaults (`-` when nothing does). */
export function policyText(p: VifRow['policy'] | undefined): string {
  if (!p) return '-';
  const parts: string[] = [];
  const keys: Array<[string, number | undefined]> = [
    ['rate-pps', p.ratePps], ['burst', p.burstPackets], ['rate-bps', p.rateBps], ['burst-bytes', p.burstBytes],
    ['flood-pps', p.floodPps], ['flood-burst', p.floodBurst], ['max-macs', p.maxMacs],
  ];
  for (const [k, n] of keys) if (n !== undefined) parts.push(`${k}=${amount(n)}`);
  if (p.lossless) parts.push('lossless=1');
  if (!p.macLock) parts.push('mac-lock=0');
  return parts.length ? parts.join(' ') : '-';
}

/** The PORT column: the switch port, or a multi-queue vif's queue ports (`3+4`). */
function portText(v: Pick<VifRow, 'port' | 'queuePorts'>): string {
  if (v.port === undefined) return '-';
  return v.queuePorts && v.queuePorts.length > 1 ? v.queuePorts.join('+') : String(v.port);
}

export function formatLs(r: LsResult): string {
  if (r.platformMode === 'xen') {
    // xen mode: PV domains (no pid); the table below with the domain's kernel
    if (r.domains.length === 0) return 'xen mode: no domains (start one with `vpio run --kernel PATH --vif mac=...`)';
    return `xen mode\n${formatLs({ domains: r.domains.map((d) => ({ ...d, pid: 0 })) })}`;
  }
  if (r.domains.length === 0) return 'no domains (start one with `vpio run <binary> --vif mac=...`)';
  // a QUEUES column (queues in use / the vif's) only when some vif has more than one
  const multi = r.domains.some((d) => d.vifs.some((v) => (v.queues ?? 1) > 1));
  // a WIRE column (uplink and VXLAN ports: kind and wire) only when some domain is one
  const wired = r.domains.some((d) => d.wire !== undefined);
  const rows: string[][] = [['DOMID', 'NAME', 'STATE', 'PID', 'VIF', 'MAC', 'VLAN', 'BACKEND', 'FRONTEND', ...(multi ? ['QUEUES'] : []), 'PORT', 'POLICY', ...(wired ? ['WIRE'] : [])]];
  for (const d of r.domains) {
    const wire = wired ? [d.wire?.text ?? '-'] : [];
    if (d.vifs.length === 0) rows.push([String(d.domid), d.name, d.state, String(d.pid), '-', '', '', '', '', ...(multi ? [''] : []), '', '', ...wire]);
    for (const [i, v] of d.vifs.entries()) {
      const queues = v.port === undefined ? String(v.queues ?? 1) : `${v.queuePorts?.length || 1}/${v.queues ?? 1}`;
      rows.push([
        i === 0 ? String(d.domid) : '', i === 0 ? d.name : '', i === 0 ? d.state : '', i === 0 ? String(d.pid) : '',
        String(v.devid), v.mac, vlanText(v),
        v.backendStateName, v.frontendStateName + (v.error ? ` (error: ${v.error})` : ''), ...(multi ? [queues] : []), portText(v),
        policyText(v.policy), ...(i === 0 ? wire : wired ? [''] : []),
      ]);
    }
  }
  return table(rows);
}

function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export function formatStats(r: StatsResult): string {
  if (r.ports.length === 0) return 'no switch ports (a vif becomes a port when its frontend connects)';
  const rows: string[][] = [['PORT', 'DOMAIN', 'VIF', 'IN pps', 'OUT pps', 'IN b/s', 'OUT b/s', 'IN pkts', 'OUT pkts', 'DROPS', 'DROP REASONS']];
  for (const p of r.ports) {
    const reasons = Object.entries(p.drops).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ');
    rows.push([
      p.queuePorts && p.queuePorts.length > 1 ? p.queuePorts.join('+') : String(p.port), p.name ?? (p.domid === undefined ? '?' : String(p.domid)), p.devid === undefined ? '-' : String(p.devid),
      si(p.rates.inPps), si(p.rates.outPps), si(p.rates.inBitsPerSec), si(p.rates.outBitsPerSec),
      String(p.inPackets), String(p.outPackets), String(p.dropsTotal), reasons || '-',
    ]);
  }
  return `${table(rows)}\n(rates over the last ${(r.intervalMs / 1000).toFixed(1)} s)`;
}

export function formatDoctor(r: DoctorReport): string {
  const lines = r.checks.map((c) => (c.ok ? `ok       ${c.name}` : `MISSING  ${c.name}: ${c.reason}\n         fix: ${c.fix}`));
  lines.push(r.ok ? 'everything vpio needs is here' : 'some checks failed: `vpio up` refuses to start unless --insecure (which runs without them)');
  // optional features: said either way, never a failure
  for (const c of r.optional ?? []) lines.push(c.ok ? `ok       ${c.name} (optional): ${c.reason}` : `no       ${c.name} (optional): ${c.reason}${c.fix ? `\n         instead: ${c.fix}` : ''}`);
  return lines.join('\n');
}
