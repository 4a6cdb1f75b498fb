#!/usr/bin/env node
/**
 * vpio — the command: up, run, ls, stats, console, capture, destroy, down, uplink, vxlan, memif, doctor.
 * Exit status: 0 ok, 1 failure (the message says what to do), 2 bad arguments.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolvePlatformMode, resolveTapOptions, type PlatformModeRequest } from '@vpio/domain';
import { ArgumentError, VpioError } from '@vpio/errors';
import { runCaptureCommand } from '../capture-command.js';
import { ControlClient } from '../control-client.js';
import { runDemo } from '../demo.js';
import { miniosPaths } from '../minios-paths.js';
import { formatXenDoctor, runDoctor, runXenDoctor } from '../doctor.js';
import { xenPagesPerDomain } from '../platform.js';
import { formatDoctor, formatLs, formatStats, policyText, vlanText } from '../format.js';
import { platformDir, socketPath } from '../paths.js';
import { MINIOS_CONFIG_MAX, type ConsoleResult, type DestroyResult, type DomainRow, type LsResult, type StatsResult } from '../protocol.js';
import { describeTopology, loadTopology } from '../topology.js';
import { applyOverSocket, cleanupLine, down, guestLine, upBackground, upForeground } from '../up.js';
import { MAX_QUEUES, parseVifSpec } from '../vif-spec.js';
import { parseMemifAdd, parseUplinkAdd, parseVlanText, parseVniText, parseVxlanAdd, type MemifAddArgs, type UplinkAddArgs, type VxlanAddArgs } from '../uplink-spec.js';

const DIR_HELP = '  --dir DIR        the platform directory (default $VPIO_DIR, /run/vpio as root, else $XDG_RUNTIME_DIR/vpio)';

const HELP: Record<string, string> = {
  vpio: `usage: vpio <command> [options]   (vpio <command> --help for each)

  up        start the platform: vpiod (xenstored, brokers) + switch + netback
  run       start a guest in a new domain, with vifs
  ls        domains, their vifs and handshake states
  stats     per-port packet rates and drops from the switch
  console   what a domain's guest wrote to stdout
  capture   capture a switch port's frames to a pcap file (tshark/Wireshark read it)
  destroy   stop a domain and remove its vifs
  down      stop the platform (every domain and vif)
  uplink    add or remove an uplink port: a host interface bridged onto the switch (AF_PACKET)
  vxlan     add or remove a VXLAN tunnel port to other hosts (VLANs <-> VNIs over UDP)
  memif     add or remove a memif port: a memif server socket for DPDK, VPP, libmemif clients
  doctor    check what this host supports, with the fix for each gap
  demo      the whole platform in one go: pktgen → firewall → sink and a ping pair, live rates, a summary
`,
  up: `usage: vpio up [-f TOPOLOGY [--check]] [--dir DIR] [--mode host|xen|auto] [--cores LIST] [--switch-mode event|poll] [--max-domains N] [--max-grants N] [--mac-byte N] [--insecure] [--foreground] [--verbose]

Starts the platform in the background (log: DIR/platform.log) and returns
once its control socket DIR/vpio.sock (0600, owner only) answers.
  -f, --file FILE  a topology (YAML: switch cores/mode, guests with command,
                   env, memory, vifs): checked whole first (nothing starts when
                   it has a problem; each is named as FILE:LINE:COL), then its
                   guests start in order; one that fails stops the platform
                   and vpio up exits 1 naming it. --cores/--mode win over the file
  --check          only check the -f file: exit 0 when valid, 1 with its problems
${DIR_HELP}
  --cores LIST     switch worker cores, comma-separated (--cores=-1: unpinned; default 1, or 0 on one CPU)
  --mode MODE      host: guests are sandboxed processes, vpiod runs its own xenstored and brokers;
                   xen: on a Xen dom0, guests are PV domains (xl), Xen's xenstored, grant tables and
                   event channels are used (gntalloc's limit is raised for --max-domains; see
                   \`vpio doctor\` for Xen's gnttab_max_frames); auto (default): xen when
                   /proc/xen/capabilities says control_d, else host. (event|poll here still mean --switch-mode.)
  --switch-mode M  event (sleep when idle, default) or poll (busy-poll)
  --max-domains N  most live domains (default 64, 1..32751); vpiod raises its descriptor
                   limit to fit and refuses to start when the hard limit is too low
  --max-grants N   most grants vpiod holds per domain (default 64, 3..4096; a vif takes 3):
                   lower it to fit more domains under the same descriptor limit
  --mac-byte N     the third byte of default vif MACs, 02:76:N:<domid>:<vif> (0..255; default
                   random: platforms joined by an uplink or VXLAN share default MACs 1 time
                   in 256 unless each gets its own N)
  --insecure       start even when sandbox steps are missing (vpio doctor lists them)
  --foreground     run in this process until SIGINT/SIGTERM or \`vpio down\`
  --verbose        structured logs on stderr (also DEBUG=vpio:*)
`,
  run: `usage: vpio run [--name N] [--vif SPEC]... [--memory MIB] [--dir DIR] [--json] <binary> [args...]
       vpio run --linux [--ip A.B.C.D/P] [--ip6 ADDR/P] [--queues N] [--vif SPEC] [options] [--] <command> [args...]
       vpio run --kernel PATH [--ramdisk PATH] [--cmdline "..."] [--vcpus N] [--memory MIB] [--name N] [--vif SPEC]...   (xen mode)
       vpio run --minios CONFIG [--stats-interval MS] [--name N] [--vif SPEC]... [--memory MIB]   (either mode)

Host mode (vpio up --mode host): the first two forms, a sandboxed process.
Xen mode (vpio up --mode xen): the third form, a PV domain created with xl
(paused; its vifs are made; then unpaused). <binary>, --linux, --env, --ip,
--ip6, --offload and --queues are host mode's; --kernel, --ramdisk,
--cmdline and --vcpus are xen mode's: the platform refuses the other
mode's form. --minios is the same in both modes: a minios middlebox running
the Click-like configuration in the file CONFIG (minios/README.md) -- host
mode runs the minios binary with it; xen mode boots the minios PV image
(--kernel may name another; --memory defaults to 32) and hands it the
configuration in its xenstore directory (vpio/config) before unpausing it.

Creates a domain, has netback create its vifs (backend InitWait published)
before the guest starts, then starts <binary> in the sandbox. Options come
before <binary>; everything after it goes to the guest.
  --name N         domain name ([A-Za-z0-9_.-], default <binary>-<n>)
  --vif SPEC       mac=02:00:00:00:00:01,vlan=10,mtu=1500,tx-slots=256,rx-slots=256,buf-size=2048,queues=1
                   policy: trunk=10+20,native-vlan=10 (instead of vlan=), rate-pps=10k,burst=64,
                   rate-bps=100M,burst-bytes=1M, flood-pps=100,flood-burst=10, max-macs=8,
                   lossless=0|1, mac-lock=0|1 (every key optional; repeat for more vifs)
  --memory MIB     memory limit (default 256)
  --env K=V        an environment variable for the guest (repeat for more)
  --kernel PATH    (xen) the PV kernel dom0 boots the domain with (xl's kernel=)
  --ramdisk PATH   (xen) its initrd;  --cmdline "..."  its command line (xl's extra=)
  --vcpus N        (xen) virtual CPUs (default 1); --memory is its RAM in MiB (default 128)
  --minios CONFIG  a minios guest running the configuration file CONFIG (at most 3584 bytes)
  --stats-interval MS  (--minios) element counters on the guest's console every MS ms
  --linux          a Linux guest: <command> runs unchanged in the domain's own network
                   namespace, whose TAP device eth0 (MAC and MTU of vif 0) vpio-linux-netfront
                   bridges to vif 0 (one vif; one is made if --vif is not given)
  --ip A.B.C.D/P   (--linux) eth0's IPv4 address;  --ip6 ADDR/P  its IPv6 address
  --offload on|off (--linux) checksum/segmentation offloads on the vif (default on: TCP
                   crosses the switch as 64 KiB super-frames; off: plain frames)
  --queues N       (--linux) 1..8 queues: a multi-queue TAP and vif 0 with N ring pairs
                   (N switch ports in one group), one netfront thread per queue; default 1
                   (on a 2-core host 2 queues measured no faster: linux-netfront README)
${DIR_HELP}
  --json           print the new domain as JSON
`,
  ls: `usage: vpio ls [--dir DIR] [--json]

Lists live domains with their vifs: MAC, VLAN, backend and frontend
xenbus states, switch port.
${DIR_HELP}
  --json           print { domains: [...] }
`,
  stats: `usage: vpio stats [--watch] [--interval-ms N] [--dir DIR] [--json]

Per-port rates (over the platform's last second) and drops by reason.
  --watch          print again every --interval-ms (default 1000) until Ctrl-C
${DIR_HELP}
  --json           print { atMs, intervalMs, ports: [...] } (one line per sample with --watch)
`,
  console: `usage: vpio console <name|domid> [--follow] [--dir DIR] [--json]

Prints what the domain's guest wrote to stdout (the platform keeps the
newest 256 KiB per domain, and an ended domain's for a while), then its
stderr tail if the domain has ended.
  --follow         keep printing new output until the domain ends (or Ctrl-C)
${DIR_HELP}
  --json           print { domid, name, alive, exit, start, end, dropped, missed, text, stderr } (with --follow: one per read)
`,
  capture: `usage: vpio capture <port> [-w FILE|-] [-c COUNT] [--duration SEC] [--snaplen N] [--direction in|out|both] [--dir DIR] [--json]

Captures the frames of one switch port. <port> is a switch port id (the
PORT column of \`vpio ls\` / \`vpio stats\`) or NAME[/DEVID], a domain's vif
(devid 0 by default). The switch copies each frame into a capture buffer
(frames that do not fit are counted as dropped, traffic never waits);
Ctrl-C, -c or --duration ends it and the capture stops in the switch.
  -w FILE          write a pcap file (nanosecond timestamps, Ethernet); - for stdout
                   (without -w: one line per frame on stdout)
  -c COUNT         stop after COUNT frames
  --duration SEC   stop after SEC seconds
  --snaplen N      bytes kept per frame, 1..65535 (default 65535)
  --direction D    in (frames the port sent, including ones policy dropped),
                   out (frames delivered to it) or both (default)
${DIR_HELP}
  --json           the summary as JSON { port, label, packets, drops, reason, file }
                   (on stderr with -w -); else "N packets captured, M dropped by the capture buffer" on stderr
`,
  destroy: `usage: vpio destroy <name|domid> [--dir DIR] [--json]

Stops the domain (SIGTERM, SIGKILL after 2 s) and removes its vifs.
${DIR_HELP}
`,
  down: `usage: vpio down [--dir DIR]

Stops the platform: every vif, the switch, every domain, the xenstore.
${DIR_HELP}
`,
  uplink: `usage: vpio uplink add IFNAME [--vlan VID|VID+VID...] [--native-vlan VID] [--mode auto|packet|xdp] [--name N] [--dir DIR] [--json]
       vpio uplink rm IFNAME [--dir DIR] [--json]

add: bridges the host interface IFNAME (in the platform's network namespace;
it must exist and be up) onto the switch. The port is a domain (uplink-IFNAME)
running vpio-uplink, whose one way out is the wire vpio-launch makes before
sandboxing it: an AF_XDP socket bound to IFNAME's rx queue with vpio's XDP
program attached (xdp), or an AF_PACKET socket bound to IFNAME, promiscuous
while it runs (packet). Its vif carries other hosts' MACs (mac-lock off).
Answers once the vif is connected, or with the reason it is not (no
interface, down, several rx queues for xdp, ...).
  --vlan VID       the port is an access port of VLAN VID (frames on the wire untagged)
  --vlan A+B...    a trunk: VLANs A, B, ... cross the wire 802.1Q-tagged
  --native-vlan V  (trunk) untagged wire frames belong to VLAN V (default: dropped)
  --mode MODE      auto (default): xdp where vpio-xdp-probe says it works (one rx queue,
                   XDP and AF_XDP in the kernel, no foreign XDP program), else packet, with
                   the reason in the port's wire info; xdp (AF_XDP, zero-copy where the
                   driver allows, else copy; refused with the probe's reason); packet
                   (AF_PACKET, TPACKET_V3 rings). vpio ls shows which; vpio doctor why
  --name N         the domain's name (default uplink-IFNAME)
rm: destroys the uplink on IFNAME (its domain and vif); traffic stops.
${DIR_HELP}
  --json           print the port's domain (add) or { domid, name, exit } (rm) as JSON
`,
  vxlan: `usage: vpio vxlan add NAME --local ADDR[:PORT] --vni VID:VNI[,VID:VNI...] [--remote ADDR[:PORT]]... [--no-learn] [--dir DIR] [--json]
       vpio vxlan rm NAME [--dir DIR] [--json]

add: a VXLAN tunnel port (RFC 7348) named NAME: a domain (vxlan-NAME) running
vpio-uplink on a UDP socket bound to ADDR:PORT (default port 4789) in the
platform's network namespace. Its vif is a VLAN trunk of the mapped VIDs:
a frame of VLAN VID leaves as a datagram of VNI VNI and comes back the same
way (interoperates with Linux's vxlan devices). It carries other hosts' MACs
(mac-lock off). IPv6: [ADDR]:PORT.
  --local ADDR[:PORT]  the local VTEP address (must be an address of this host)
  --vni VID:VNI,...    VLAN VID (1..4094) <-> VNI (1..16777215), each once (repeatable)
  --remote ADDR[:PORT] a peer VTEP: broadcast, multicast and unknown unicast go to every
                       --remote (repeatable; default port: --local's)
  --no-learn           learn no MAC -> VTEP: every frame goes to every --remote
rm: destroys the VXLAN port NAME.
${DIR_HELP}
  --json           print the port's domain (add) or { domid, name, exit } (rm) as JSON
`,
  memif: `usage: vpio memif add NAME --socket PATH [--id N] [--secret S] [--vlan VID|VID+VID...] [--rx-mode interrupt|poll] [--dir DIR] [--json]
       vpio memif rm NAME [--dir DIR] [--json]

add: a memif port named NAME: a domain (memif-NAME) running vpio-uplink as a
memif server on a SOCK_SEQPACKET socket vpio-launch makes listening at PATH
(mode 0600, root's) before sandboxing it. One memif client at a time (DPDK
net_memif role=client, VPP, libmemif) connects there; its frames cross the
switch through the port's vif (mac-lock off). Only sealed client regions are
mapped; a refused or departed client leaves the port listening. vpio ls shows
"memif PATH (connected|listening)".
  --socket PATH    the socket's path: absolute, at most 107 bytes; its directory must
                   exist, be root's and not be group/other-writable; a stale socket is
                   replaced, a live one refused
  --id N           the memif interface id the client asks for (0..4294967295, default 0)
  --secret S       the secret the client must send (1..24 bytes; default none; the port
                   gets it in its environment, not its command line; the socket's mode
                   is the access control)
  --vlan VID       the port is an access port of VLAN VID (frames to the client untagged)
  --vlan A+B...    a trunk: VLANs A, B, ... cross the memif 802.1Q-tagged
  --rx-mode M      interrupt (default): the port sleeps when idle and only then asks the
                   client for an interrupt (an eventfd write); poll: the client never
                   interrupts and the port spins while it is connected (a core of its own)
rm: destroys the memif port NAME (the socket file goes with it).
${DIR_HELP}
  --json           print the port's domain (add) or { domid, name, exit } (rm) as JSON
`,
  demo: `usage: vpio demo [--seconds N] [--cores LIST] [--json] [--insecure]

Brings a private platform up (its own directory; nothing else is touched),
starts five minios guests — pktgen → firewall → sink (UDP to port 9001 at
full speed is allowed, to port 23 at up to 100 kpps denied) and ping-a ↔ ping-b —
shows live per-guest rates from the switch counters for N seconds, then a
summary (Mpps through the firewall, drops by reason, ping RTT p50/p99),
tears everything down and checks that no process, descriptor, memfd region
or socket is left. Needs the minios guest built (npm run build).
  --seconds N      how long traffic runs (default 10, 2..600)
  --cores LIST     switch worker cores (default 1 when there are 2+ cores, else unpinned)
  --json           print only the summary, as JSON
  --insecure       run without the sandbox steps this host lacks (see vpio doctor)
`,
  doctor: `usage: vpio doctor [--mode host|xen|auto] [--max-domains N] [--json]

Host mode: checks user namespaces, namespaces, seccomp, no-new-privs, pidfd,
memfd seals and cgroups for real (vpio-launch --check, a sealed memfd) and
says the fix for each missing one. Xen mode (auto: on a Xen dom0): checks
control_d, /dev/xen/{evtchn,gntalloc,gntdev,privcmd}, Xen's xenstored, xl,
xen-netback/xen-netfront (harmless: vpio's device type is vpio-vif),
gntalloc's page limit and dom0's grant table (gnttab_max_frames) against
--max-domains (default 64) domains of two default vifs each, one line each
with OK/FAIL and the fix. Exit 1 when something is missing.
  --json           print { ok, mode, checks: [{ name, ok, reason?, fix? }] }
`,
};

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(cmd: string, argv: string[], options: ParseArgsConfig['options'], positionals = false): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' }, dir: { type: 'string' } }, allowPositionals: positionals, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    // node's own words name the flag ("Unknown option '--foo'", "Option '--cores' argument missing")
    throw new VpioError('ERR_ARGUMENT', (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
}

/** `vpio run`'s argv: options up to the first non-option word (the binary); the rest is the guest's. */
function splitRun(argv: string[]): { own: string[]; guest: string[] } {
  const withValue = new Set(['--name', '--vif', '--memory', '--dir', '--env', '--ip', '--ip6', '--offload', '--queues', '--kernel', '--ramdisk', '--cmdline', '--vcpus', '--minios', '--stats-interval']);
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { own: argv.slice(0, i), guest: argv.slice(i + 1) };
    if (!a.startsWith('-')) break;
    i += withValue.has(a) ? 2 : 1;
  }
  return { own: argv.slice(0, i), guest: argv.slice(i) };
}

async function withClient<T>(dir: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const c = await ControlClient.connect(socketPath(dir), dir);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function intFlag(flag: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ArgumentError(flag, `an integer in [${min}, ${max}]`, v);
  return n;
}

/** `vpio run --minios CONFIG`: the same request in both modes; the platform picks the binary or the PV image. */
async function runMinios(v: Values, guest: readonly string[], out: (s: string) => void): Promise<number> {
  const other = v.linux ? '--linux' : v.env !== undefined ? '--env' : v.ip !== undefined ? '--ip' : v.ip6 !== undefined ? '--ip6' : v.offload !== undefined ? '--offload' : v.queues !== undefined ? '--queues' : v.ramdisk !== undefined ? '--ramdisk' : guest.length ? '<binary>' : undefined;
  if (other) throw new ArgumentError(other, 'nothing with --minios: a minios guest runs its configuration', other === '<binary>' ? guest.join(' ') : true);
  const file = v.minios as string;
  let config: string;
  try {
    config = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ArgumentError('--minios', `a readable configuration file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  const bytes = Buffer.byteLength(config);
  if (bytes > MINIOS_CONFIG_MAX) throw new ArgumentError('--minios', `a configuration of at most ${MINIOS_CONFIG_MAX} bytes (it is ${bytes})`, file);
  const statsIntervalMs = v['stats-interval'] === undefined ? undefined : intFlag('--stats-interval', v['stats-interval'], 1, 3_600_000);
  const vifs = (v.vif as string[] | undefined) ?? [];
  for (const s of vifs) parseVifSpec(s);
  const memoryMiB = v.memory === undefined ? undefined : intFlag('--memory', v.memory, 16, 1 << 20);
  const vcpus = v.vcpus === undefined ? undefined : intFlag('--vcpus', v.vcpus, 1, 128);
  const xen = v.kernel === undefined ? undefined : { kernel: v.kernel as string, ...(v.cmdline === undefined ? {} : { cmdline: v.cmdline as string }), ...(vcpus === undefined ? {} : { vcpus }) };
  const minios = { config, ...(statsIntervalMs === undefined ? {} : { statsIntervalMs }) };
  const d = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<DomainRow>('run', { name: v.name, argv: [], vifs, memoryMiB, minios, ...(xen ? { xen } : {}) }));
  if (v.json) out(JSON.stringify(d));
  else {
    out(`vpio: domain ${d.domid} "${d.name}" running minios ${file} (${d.kernel ? `PV kernel ${d.kernel}` : `pid ${d.pid}`})`);
    for (const f of d.vifs) out(`  vif ${f.devid}: ${f.mac}, backend ${f.backendStateName}`);
  }
  return 0;
}

/** `vpio uplink add|rm ...`, `vpio vxlan add|rm ...` and `vpio memif add|rm ...`: checked here (exit 2 on a bad argument), then asked of the platform. */
async function portCommand(cmd: 'uplink' | 'vxlan' | 'memif', rest: string[], out: (s: string) => void): Promise<number> {
  const sub = rest[0];
  if (sub !== 'add' && sub !== 'rm') throw new ArgumentError('<subcommand>', 'add or rm', sub);
  const opts: ParseArgsConfig['options'] = sub === 'rm' ? { json: { type: 'boolean' } }
    : cmd === 'uplink' ? { json: { type: 'boolean' }, vlan: { type: 'string' }, 'native-vlan': { type: 'string' }, mode: { type: 'string' }, name: { type: 'string' } }
      : cmd === 'memif' ? { json: { type: 'boolean' }, socket: { type: 'string' }, id: { type: 'string' }, secret: { type: 'string' }, vlan: { type: 'string' }, 'rx-mode': { type: 'string' } }
      : { json: { type: 'boolean' }, local: { type: 'string' }, vni: { type: 'string', multiple: true }, remote: { type: 'string', multiple: true }, 'no-learn': { type: 'boolean' } };
  const { values: v, positionals } = parse(cmd, rest.slice(1), opts, true);
  const what = cmd === 'uplink' ? 'IFNAME' : 'NAME';
  if (positionals.length !== 1) throw new ArgumentError(`<${what}>`, cmd === 'uplink' ? 'exactly one interface name' : `exactly one ${cmd === 'vxlan' ? 'VXLAN' : 'memif'} port name`, positionals.join(' ') || undefined);
  const key = positionals[0]!;
  const dir = platformDir(v.dir as string | undefined);
  if (sub === 'rm') {
    const r = await withClient(dir, (c) => c.request<DestroyResult>(`${cmd}-rm`, cmd === 'uplink' ? { ifname: key } : { name: key }));
    out(v.json ? JSON.stringify(r) : `vpio: ${cmd} ${key} removed (domain ${r.domid} "${r.name}" ${r.exit.reason})`);
    return 0;
  }
  let req: UplinkAddArgs | VxlanAddArgs | MemifAddArgs;
  if (cmd === 'memif') {
    if (v.socket === undefined) throw new ArgumentError('--socket', 'the socket path the memif client connects to', undefined);
    const vlan = v.vlan === undefined ? {} : parseVlanText(v.vlan as string);
    const id = v.id === undefined ? undefined : intFlag('--id', v.id, 0, 0xffffffff);
    req = parseMemifAdd({ name: key, socket: v.socket, ...vlan, ...(id === undefined ? {} : { id }), ...(v.secret === undefined ? {} : { secret: v.secret }), ...(v['rx-mode'] === undefined ? {} : { rxMode: v['rx-mode'] }) });
  } else if (cmd === 'uplink') {
    const vlan = v.vlan === undefined ? {} : parseVlanText(v.vlan as string);
    const nativeVid = v['native-vlan'] === undefined ? undefined : intFlag('--native-vlan', v['native-vlan'], 1, 4094);
    req = parseUplinkAdd({ ifname: key, ...vlan, ...(nativeVid === undefined ? {} : { nativeVid }), ...(v.mode === undefined ? {} : { mode: v.mode }), ...(v.name === undefined ? {} : { name: v.name }) });
  } else {
    if (v.local === undefined) throw new ArgumentError('--local', 'the local VTEP address, ADDR[:PORT]', undefined);
    if (v.vni === undefined) throw new ArgumentError('--vni', 'VID:VNI[,VID:VNI...]', undefined);
    req = parseVxlanAdd({ name: key, local: v.local, vnis: parseVniText(v.vni as string[]), remotes: (v.remote as string[] | undefined) ?? [], noLearn: v['no-learn'] === true });
  }
  const d = await withClient(dir, (c) => c.request<DomainRow>(`${cmd}-add`, req));
  if (v.json) out(JSON.stringify(d));
  else {
    out(`vpio: ${d.wire?.text ?? `${cmd} ${key}`} is domain ${d.domid} "${d.name}" (pid ${d.pid})`);
    if (d.wire?.kind === 'uplink' && d.wire.fallback) out(`  not AF_XDP: ${d.wire.fallback}`);
    for (const f of d.vifs) {
      const vlan = vlanText(f);
      out(`  vif ${f.devid}: ${f.mac}${vlan === '-' ? '' : vlan.startsWith('trunk') ? ` ${vlan}` : ` vlan ${vlan}`}, switch port ${f.port ?? '-'}, backend ${f.backendStateName}, frontend ${f.frontendStateName}`);
    }
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  const cmd = argv[0];
  const rest = argv.slice(1);
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP.vpio!);
    return cmd === undefined ? 2 : 0;
  }
  if (!(cmd in HELP) || cmd === 'vpio') throw new ArgumentError('command', `one of up, run, ls, stats, console, capture, destroy, down, doctor, demo, uplink, vxlan`, cmd);
  if (rest.includes('--help') && (cmd !== 'run' || splitRun(rest).own.includes('--help'))) {
    process.stdout.write(HELP[cmd]!);
    return 0;
  }
  switch (cmd) {
    case 'up': {
      const { values: v } = parse(cmd, rest, { cores: { type: 'string' }, mode: { type: 'string', multiple: true }, 'switch-mode': { type: 'string' }, insecure: { type: 'boolean' }, foreground: { type: 'boolean' }, verbose: { type: 'boolean' }, file: { type: 'string', short: 'f' }, check: { type: 'boolean' }, 'max-domains': { type: 'string' }, 'max-grants': { type: 'string' }, 'mac-byte': { type: 'string' } });
      if (v.check && v.file === undefined) throw new ArgumentError('--check', 'a topology to check (vpio up -f FILE --check)', undefined);
      // the whole file is checked before anything starts
      const topology = v.file === undefined ? undefined : loadTopology(v.file as string);
      if (topology && v.check) {
        out(describeTopology(topology));
        return 0;
      }
      const coresText = (v.cores as string | undefined) ?? topology?.switch.cores?.join(',') ?? ((await import('node:os')).availableParallelism() > 1 ? '1' : '0');
      const cores = coresText.split(',').map((c) => intFlag('--cores', c, -1, 1023));
      // --mode host|xen|auto is the platform's; event|poll (older spelling of --switch-mode) the switch's
      const modes = (v.mode as string[] | undefined) ?? [];
      for (const m of modes) if (!['host', 'xen', 'auto', 'event', 'poll'].includes(m)) throw new ArgumentError('--mode', 'host, xen or auto (the switch: --switch-mode event|poll)', m);
      const platformModes = modes.filter((m) => m === 'host' || m === 'xen' || m === 'auto');
      const switchModes = [...modes.filter((m) => m === 'event' || m === 'poll'), ...(v['switch-mode'] === undefined ? [] : [v['switch-mode'] as string])];
      if (platformModes.length > 1) throw new ArgumentError('--mode', 'one of host, xen, auto', platformModes.join(' and '));
      if (new Set(switchModes).size > 1) throw new ArgumentError('--switch-mode', 'one of event, poll', switchModes.join(' and '));
      const mode = switchModes[0] ?? topology?.switch.mode ?? 'event';
      if (mode !== 'event' && mode !== 'poll') throw new ArgumentError('--switch-mode', 'event or poll', mode);
      const platformMode = resolvePlatformMode((platformModes[0] ?? 'auto') as PlatformModeRequest);
      const maxDomains = v['max-domains'] === undefined ? undefined : intFlag('--max-domains', v['max-domains'], 1, 32751);
      const maxGrants = v['max-grants'] === undefined ? undefined : intFlag('--max-grants', v['max-grants'], 3, 4096);
      const macByte = v['mac-byte'] === undefined ? undefined : intFlag('--mac-byte', v['mac-byte'], 0, 255);
      const o = { dir: platformDir(v.dir as string | undefined), cores, mode: mode as 'event' | 'poll', platformMode, insecure: v.insecure === true, verbose: v.verbose === true, ...(maxDomains === undefined ? {} : { maxDomains }), ...(maxGrants === undefined ? {} : { maxGrants }), ...(macByte === undefined ? {} : { macByte }) };
      if (v.foreground) {
        await upForeground({ ...o, topology }, out);
        return 0;
      }
      const info = await upBackground(o, [fileURLToPath(import.meta.url)]);
      out(`vpio: platform up (pid ${info.pid}) on ${info.dir} in ${info.platformMode} mode${info.skippedSteps.length ? ` INSECURE: without ${info.skippedSteps.join(', ')}` : ''}`);
      const cleaned = cleanupLine(info.staleFiles, info.recovered);
      if (cleaned) out(cleaned);
      if (topology) await applyOverSocket(info.dir, topology, (d) => out(guestLine(d)));
      return 0;
    }
    case 'run': {
      const { own, guest } = splitRun(rest);
      const { values: v } = parse(cmd, own, { name: { type: 'string' }, vif: { type: 'string', multiple: true }, memory: { type: 'string' }, env: { type: 'string', multiple: true }, json: { type: 'boolean' }, linux: { type: 'boolean' }, ip: { type: 'string' }, ip6: { type: 'string' }, offload: { type: 'string' }, queues: { type: 'string' }, kernel: { type: 'string' }, ramdisk: { type: 'string' }, cmdline: { type: 'string' }, vcpus: { type: 'string' }, minios: { type: 'string' }, 'stats-interval': { type: 'string' } });
      if (v['stats-interval'] !== undefined && v.minios === undefined) throw new ArgumentError('--stats-interval', 'only with --minios', v['stats-interval']);
      if (v.minios !== undefined) return runMinios(v, guest, out);
      if (v.kernel === undefined && (v.ramdisk !== undefined || v.cmdline !== undefined || v.vcpus !== undefined)) {
        const flag = v.ramdisk !== undefined ? '--ramdisk' : v.cmdline !== undefined ? '--cmdline' : '--vcpus';
        throw new ArgumentError(flag, 'only with --kernel (a xen-mode PV guest)', v.ramdisk ?? v.cmdline ?? v.vcpus);
      }
      if (v.kernel !== undefined) {
        const hostOnly = v.linux ? '--linux' : v.env !== undefined ? '--env' : v.ip !== undefined ? '--ip' : v.ip6 !== undefined ? '--ip6' : v.offload !== undefined ? '--offload' : v.queues !== undefined ? '--queues' : guest.length ? '<binary>' : undefined;
        if (hostOnly) throw new ArgumentError(hostOnly, 'nothing with --kernel: a xen guest boots its kernel (host mode runs <binary>, --linux, --env)', hostOnly === '<binary>' ? guest.join(' ') : true);
        if (v.kernel === '') throw new ArgumentError('--kernel', 'the path of a PV kernel', v.kernel);
        const vifsX = (v.vif as string[] | undefined) ?? [];
        for (const s of vifsX) parseVifSpec(s);
        const memoryX = v.memory === undefined ? undefined : intFlag('--memory', v.memory, 16, 1 << 20);
        const vcpus = v.vcpus === undefined ? undefined : intFlag('--vcpus', v.vcpus, 1, 128);
        const xen = { kernel: v.kernel as string, ...(v.ramdisk === undefined ? {} : { ramdisk: v.ramdisk as string }), ...(v.cmdline === undefined ? {} : { cmdline: v.cmdline as string }), ...(vcpus === undefined ? {} : { vcpus }) };
        const d = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<DomainRow>('run', { name: v.name, argv: [], vifs: vifsX, memoryMiB: memoryX, xen }));
        if (v.json) out(JSON.stringify(d));
        else {
          out(`vpio: domain ${d.domid} "${d.name}" running (PV kernel ${d.kernel ?? xen.kernel})`);
          for (const f of d.vifs) out(`  vif ${f.devid}: ${f.mac}, backend ${f.backendStateName}`);
        }
        return 0;
      }
      if (!v.linux && (v.ip !== undefined || v.ip6 !== undefined || v.offload !== undefined || v.queues !== undefined)) {
        const flag = v.ip !== undefined ? '--ip' : v.ip6 !== undefined ? '--ip6' : v.offload !== undefined ? '--offload' : '--queues';
        throw new ArgumentError(flag, flag === '--queues' ? 'only with --linux (other guests: --vif queues=N)' : 'only with --linux', v.ip ?? v.ip6 ?? v.offload ?? v.queues);
      }
      if (v.offload !== undefined && v.offload !== 'on' && v.offload !== 'off') throw new ArgumentError('--offload', 'on or off', v.offload);
      const queues = v.queues === undefined ? undefined : intFlag('--queues', v.queues, 1, MAX_QUEUES);
      const linux = v.linux ? { ...(v.ip === undefined ? {} : { ipv4: v.ip as string }), ...(v.ip6 === undefined ? {} : { ipv6: v.ip6 as string }), ...(v.offload === undefined ? {} : { offload: v.offload === 'on' }), ...(queues === undefined ? {} : { queues }) } : undefined;
      try {
        if (linux) resolveTapOptions({ ...(linux.ipv4 === undefined ? {} : { ipv4: linux.ipv4 }), ...(linux.ipv6 === undefined ? {} : { ipv6: linux.ipv6 }) }); // fail here, before asking the daemon
      } catch (e) {
        const six = (e as Error).message.includes('tap.ipv6');
        throw new ArgumentError(six ? '--ip6' : '--ip', six ? 'an IPv6 ADDR/PREFIX (prefix 0..128)' : 'A.B.C.D/PREFIX (prefix 1..32)', six ? v.ip6 : v.ip);
      }
      if (guest.length === 0) throw new ArgumentError('<binary>', 'the guest binary to run (vpio run [options] <binary> [args...])', undefined);
      const vifs = (v.vif as string[] | undefined) ?? [];
      for (const s of vifs) parseVifSpec(s); // fail here, naming the bad part, before asking the daemon
      const memoryMiB = v.memory === undefined ? undefined : intFlag('--memory', v.memory, 16, 1 << 20);
      const env: Record<string, string> = {};
      for (const kv of (v.env as string[] | undefined) ?? []) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new ArgumentError('--env', 'K=V', kv);
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const dir = platformDir(v.dir as string | undefined);
      const d = await withClient(dir, (c) => c.request<DomainRow>('run', { name: v.name, argv: guest, vifs, memoryMiB, env, ...(linux ? { linux } : {}) }));
      if (v.json) out(JSON.stringify(d));
      else {
        out(`vpio: domain ${d.domid} "${d.name}" running (pid ${d.pid})`);
        for (const f of d.vifs) {
          const [vlan, policy] = [vlanText(f), policyText(f.policy)];
          out(`  vif ${f.devid}: ${f.mac}${vlan === '-' ? '' : vlan.startsWith('trunk') ? ` ${vlan}` : ` vlan ${vlan}`}${f.queues > 1 ? `, ${f.queues} queues` : ''}${policy === '-' ? '' : `, ${policy}`}, backend ${f.backendStateName}`);
        }
      }
      return 0;
    }
    case 'ls': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' } });
      const r = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<LsResult>('ls'));
      out(v.json ? JSON.stringify(r) : formatLs(r));
      return 0;
    }
    case 'stats': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' }, watch: { type: 'boolean' }, 'interval-ms': { type: 'string' } });
      const intervalMs = v['interval-ms'] === undefined ? 1000 : intFlag('--interval-ms', v['interval-ms'], 100, 3_600_000);
      const dir = platformDir(v.dir as string | undefined);
      return withClient(dir, async (c) => {
        for (;;) {
          const r = await c.request<StatsResult>('stats');
          out(v.json ? JSON.stringify(r) : formatStats(r));
          if (!v.watch) return 0;
          await new Promise((res) => setTimeout(res, intervalMs));
          if (!v.json) out('');
        }
      });
    }
    case 'console': {
      const { values: v, positionals } = parse(cmd, rest, { json: { type: 'boolean' }, follow: { type: 'boolean' } }, true);
      if (positionals.length !== 1) throw new ArgumentError('<name>', 'exactly one domain name or domid', positionals.join(' ') || undefined);
      const dir = platformDir(v.dir as string | undefined);
      return withClient(dir, async (c) => {
        let since = 0;
        for (;;) {
          const r = await c.request<ConsoleResult>('console', { name: positionals[0], since });
          if (v.json) out(JSON.stringify(r));
          else {
            if (r.missed > 0) process.stdout.write(`[vpio: ${r.missed} bytes of console output dropped]\n`);
            process.stdout.write(r.text);
            if (!r.alive && r.exit) {
              if (r.stderr) process.stdout.write(`${r.text === '' || r.text.endsWith('\n') ? '' : '\n'}[vpio: stderr]\n${r.stderr}`);
              process.stdout.write(`${r.stderr === '' || r.stderr.endsWith('\n') ? '' : '\n'}[vpio: domain ${r.domid} "${r.name}" ${r.exit.reason}, code ${r.exit.code}, signal ${r.exit.signal}]\n`);
            }
          }
          since = r.end;
          if (!v.follow || !r.alive) return 0;
          await new Promise((res) => setTimeout(res, 100));
        }
      });
    }
    case 'capture': {
      const { values: v, positionals } = parse(cmd, rest, { write: { type: 'string', short: 'w' }, count: { type: 'string', short: 'c' }, duration: { type: 'string' }, snaplen: { type: 'string' }, direction: { type: 'string' }, json: { type: 'boolean' } }, true);
      if (positionals.length !== 1) throw new ArgumentError('<port>', 'exactly one switch port id or NAME[/DEVID]', positionals.join(' ') || undefined);
      const direction = (v.direction as string | undefined) ?? 'both';
      if (direction !== 'in' && direction !== 'out' && direction !== 'both') throw new ArgumentError('--direction', 'in, out or both', direction);
      const durationSec = v.duration === undefined ? undefined : Number(v.duration);
      if (durationSec !== undefined && !(durationSec > 0 && durationSec <= 365 * 86400)) throw new ArgumentError('--duration', 'seconds, a number > 0', v.duration);
      await runCaptureCommand({
        dir: platformDir(v.dir as string | undefined),
        port: positionals[0]!,
        file: v.write as string | undefined,
        count: v.count === undefined ? undefined : intFlag('-c', v.count, 1, Number.MAX_SAFE_INTEGER),
        durationMs: durationSec === undefined ? undefined : Math.max(1, Math.round(durationSec * 1000)),
        snaplen: v.snaplen === undefined ? undefined : intFlag('--snaplen', v.snaplen, 1, 65535),
        direction,
        json: v.json === true,
      }, { stdout: process.stdout, stderr: process.stderr });
      return 0;
    }
    case 'destroy': {
      const { values: v, positionals } = parse(cmd, rest, { json: { type: 'boolean' } }, true);
      if (positionals.length !== 1) throw new ArgumentError('<name>', 'exactly one domain name or domid', positionals.join(' ') || undefined);
      const r = await withClient(platformDir(v.dir as string | undefined), (c) => c.request<DestroyResult>('destroy', { name: positionals[0] }));
      out(v.json ? JSON.stringify(r) : `vpio: domain ${r.domid} "${r.name}" destroyed (${r.exit.reason})`);
      return 0;
    }
    case 'uplink':
    case 'vxlan':
    case 'memif':
      return portCommand(cmd, rest, out);
    case 'down': {
      const { values: v } = parse(cmd, rest, {});
      const dir = platformDir(v.dir as string | undefined);
      const pid = await down(dir);
      out(`vpio: platform (pid ${pid}) on ${dir} stopped`);
      return 0;
    }
    case 'demo': {
      const { values: v } = parse(cmd, rest, { seconds: { type: 'string' }, cores: { type: 'string' }, json: { type: 'boolean' }, insecure: { type: 'boolean' } });
      const seconds = v.seconds === undefined ? 10 : intFlag('--seconds', v.seconds, 2, 600);
      const coresText = (v.cores as string | undefined) ?? ((await import('node:os')).availableParallelism() > 1 ? '1' : '-1');
      const cores = coresText.split(',').map((c) => intFlag('--cores', c, -1, 1023));
      const s = await runDemo({ seconds, cores, json: v.json === true, insecure: v.insecure === true, minios: miniosPaths() });
      return s.leftovers.length ? 1 : 0;
    }
    case 'doctor': {
      const { values: v } = parse(cmd, rest, { json: { type: 'boolean' }, mode: { type: 'string' }, 'max-domains': { type: 'string' } });
      const req = (v.mode as string | undefined) ?? 'auto';
      if (req !== 'host' && req !== 'xen' && req !== 'auto') throw new ArgumentError('--mode', 'host, xen or auto', req);
      if ((req === 'auto' ? resolvePlatformMode('auto') : req) === 'xen') {
        const maxDomains = v['max-domains'] === undefined ? 64 : intFlag('--max-domains', v['max-domains'], 1, 32751);
        const x = await runXenDoctor({ maxDomains, pagesPerDomain: xenPagesPerDomain() });
        out(v.json ? JSON.stringify(x) : formatXenDoctor(x));
        return x.ok ? 0 : 1;
      }
      const r = await runDoctor();
      out(v.json ? JSON.stringify(r) : formatDoctor(r));
      return r.ok ? 0 : 1;
    }
  }
  return 2;
}

/**
 * Exits with `code` once everything written to stdout and stderr has been
 * handed to the OS. process.exit() alone drops what a pipe has not taken
 * yet: a pipe holds 64 KiB, node queues the rest in the process, and
 * `vpio console --json | wc -c` would count 65536. A write's callback runs
 * after every earlier write on that stream was flushed (or failed: a reader
 * that went away must not keep us waiting, nor turn into an uncaught EPIPE).
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  const streams = [process.stdout, process.stderr].filter((s) => s.writableLength > 0 && !s.destroyed);
  let pending = streams.length;
  if (pending === 0) process.exit(code);
  for (const s of streams) {
    s.on('error', () => undefined); // the write's callback sees it
    s.write('', () => {
      if (--pending === 0) process.exit(code);
    });
  }
}

main(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (e: unknown) => {
    const cmd = process.argv[2] && process.argv[2] in HELP ? ` ${process.argv[2]}` : '';
    if (e instanceof VpioError && e.code === 'ERR_ARGUMENT') {
      process.stderr.write(`vpio${cmd}: ${e.message}\n(see \`vpio${cmd} --help\`)\n`);
      exitWhenFlushed(2);
      return;
    }
    process.stderr.write(`vpio${cmd}: ${(e as Error).message}\n`);
    exitWhenFlushed(1);
  },
);
