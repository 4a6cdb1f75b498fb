/**
 * vpio-uplink's command line, run standalone: --help, bad arguments (one
 * line, exit 64), and a wire descriptor that is missing or not what --wire
 * says (exit 69, before any session is opened). And uplinkPath().
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uplinkPath } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const binary = join(root, 'build', 'vpio-uplink');

function run(args: string[], env: Record<string, string> = {}, shell?: string): { status: number | null; stdout: string; stderr: string } {
  const base: Record<string, string | undefined> = { ...process.env, VPIO_WIRE_FD: '', VPIO_WIRE_KIND: '', VPIO_WIRE_NAME: '', VPIO_CTRL_FD: '', ...env };
  for (const k of Object.keys(base)) if (base[k] === '') delete base[k];
  const r = shell
    ? spawnSync('bash', ['-c', `exec "$0" "$@" ${shell}`, binary, ...args], { env: base, encoding: 'utf8', timeout: 10_000 })
    : spawnSync(binary, args, { env: base, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vpio-uplink command line', () => {
  it('is built', () => {
    expect(existsSync(binary), `${binary} is missing: run \`make -s all\``).toBe(true);
  });

  it('--help lists every option of the program and of both wires, exit 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const opt of [
      '--wire', '--devid', '--mode', '--timeout-ms', '--burst', '--stats-interval', '--wire-fd',
      '--block-timeout-ms', '--qdisc', '--vni', '--remote', '--no-learn', '--dst-port', '--fdb-size', '--fdb-age-s',
      '--id', '--secret',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toContain('packet|vxlan|memif|xdp'); // xdp: built with libxdp-dev (@vpio/kernel's Debian list)
  });

  it.each([
    [[], '--wire packet|vxlan|memif|xdp is required'],
    [['--wire', 'tap'], '--wire expects packet|vxlan|memif|xdp, got "tap"'],
    [['--wire', 'memif', '--id', '-1'], '--id expects an integer in [0, 4294967295]'],
    [['--wire', 'memif', '--id', '4294967296'], '--id expects an integer in [0, 4294967295]'],
    [['--wire', 'memif', '--secret', 'x'.repeat(25)], '--secret expects 1..24 bytes, got 25'],
    [['--wire', 'memif', '--vni', '5:1'], 'unknown option "--vni" for --wire memif'],
    [['--wire', 'vxlan'], '--wire vxlan needs --vni'],
    [['--wire', 'vxlan', '--vni', '0:5'], 'VID "0" is not in [1, 4094]'],
    [['--wire', 'vxlan', '--vni', '5:16777216'], 'VNI "16777216"'],
    [['--wire', 'vxlan', '--vni', '5:1,6:1'], 'VNI 1 is mapped twice'],
    [['--wire', 'vxlan', '--vni', '5:1', '--remote', 'example.org'], '--remote expects ADDR[:PORT]'],
    [['--wire', 'vxlan', '--vni', '5:1', '--no-learn'], '--no-learn needs at least one --remote'],
    [['--wire', 'vxlan', '--vni', '5:1', '--fdb-size', '1000'], '--fdb-size expects a power of two'],
    [['--wire', 'vxlan', '--vni', '5:1', '--dst-port', '0'], '--dst-port expects an integer in [1, 65535]'],
    [['--wire', 'packet', '--vni', '5:1'], 'unknown option "--vni" for --wire packet'],
    [['--wire', 'packet', '--burst', '65'], '--burst expects an integer in [1, 64]'],
    [['--wire', 'packet', '--mode', 'fast'], '--mode expects event or poll'],
    [['--wire', 'packet', '--qdisc', 'maybe'], '--qdisc expects on or off'],
    [['--wire', 'packet', '--devid'], '--devid expects a value'],
  ])('refuses %j with one line and exit 64', (args, message) => {
    const r = run(args as string[]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without $VPIO_WIRE_FD or --wire-fd: says how to get a wire, exit 69', () => {
    const r = run(['--wire', 'packet']);
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('$VPIO_WIRE_FD is not set');
  });

  it('a wire of the other kind from vpio-launch ($VPIO_WIRE_KIND): exit 69', () => {
    const r = run(['--wire', 'packet'], { VPIO_WIRE_FD: '5', VPIO_WIRE_KIND: 'udp' });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('--wire packet needs a packet wire, but vpio-launch passed a udp one');
  });

  it('a descriptor that is not a socket: exit 69 naming what it is', () => {
    const r = run(['--wire', 'vxlan', '--vni', '10:1000', '--wire-fd', '0']);
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('needs a bound UDP socket');
    expect(r.stderr).toContain('not a socket (a character device)');
  });

  it('a UDP socket given to --wire packet: exit 69 naming its domain and type', () => {
    const r = run(['--wire', 'packet', '--wire-fd', '5'], {}, '5<>/dev/udp/127.0.0.1/9');
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('--wire packet needs an AF_PACKET SOCK_RAW socket, but descriptor 5 is an AF_INET SOCK_DGRAM socket');
  });

  it('a UDP socket given to --wire memif: exit 69 asking for a listening SOCK_SEQPACKET socket', () => {
    const r = run(['--wire', 'memif', '--wire-fd', '5'], {}, '5<>/dev/udp/127.0.0.1/9');
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('--wire memif needs a listening AF_UNIX SOCK_SEQPACKET socket (vpio-launch --wire-memif PATH), but descriptor 5 is an AF_INET SOCK_DGRAM socket');
  });

  it('the wire on the control socket\'s descriptor is refused, exit 69', () => {
    const r = run(['--wire', 'vxlan', '--vni', '10:1000', '--wire-fd', '3'], {}, '3<>/dev/udp/127.0.0.1/9');
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('is the control socket');
  });

  it('a good wire but no vpio session: exit 75', () => {
    const r = run(['--wire', 'vxlan', '--vni', '10:1000', '--wire-fd', '5'], { VPIO_CTRL_FD: '7' }, '5<>/dev/udp/127.0.0.1/9');
    expect(r.status).toBe(75);
    expect(r.stderr).toContain('session');
  });
});

describe('uplinkPath()', () => {
  const saved = process.env.VPIO_UPLINK;
  afterEach(() => {
    if (saved === undefined) delete process.env.VPIO_UPLINK;
    else process.env.VPIO_UPLINK = saved;
  });

  it('is the package\'s build/vpio-uplink', () => {
    delete process.env.VPIO_UPLINK;
    expect(uplinkPath()).toBe(binary);
  });

  it('is $VPIO_UPLINK when set', () => {
    process.env.VPIO_UPLINK = '/opt/vpio-uplink';
    expect(uplinkPath()).toBe('/opt/vpio-uplink');
  });
});
