/**
 * Scenario 1 (Linux guests over the switch): objective: `vpio run --linux`
 * starts an unchanged Linux program in a domain whose own network namespace
 * has a TAP device (eth0, vif 0's MAC and MTU, the --ip/--ip6 addresses)
 * that vpio-linux-netfront bridges to vif 0; two such guests on one subnet
 * reach each other through the switch with stock tools:
 *   1.1 ping over IPv4 and IPv6;
 *   1.2 a 100 MB file of random bytes over TCP, its sha256 computed inside
 *       both guests and here, all equal; with offloads (IFF_VNET_HDR, the
 *       vif's request-netmap-offload): TCP crosses as super-frames (chains);
 *   1.2b 20 MB from an offload guest to an `--offload off` guest: the
 *       switch segments the sender's super-frames (software GSO), sha256 intact;
 *   1.3 iperf3 (TCP, one stream, 3 s): completes; the rate is printed, not asserted;
 *   1.4 destroy (SIGTERM) disconnects cleanly and prints the counters;
 *   1.5 a Linux guest (offloads on) pings a minios guest (no offloads: it
 *       gets plain frames) over IPv4 and IPv6;
 *   1.7 two guests with `--queues 2`: eth0 is a multi-queue TAP with 2
 *       queues, vif 0 two ring pairs (two switch ports in one group, `vpio
 *       ls`/`vpio stats`), ping works, 8 parallel TCP streams carry 8 files
 *       with their sha256 intact, and both netfronts' per-queue counters
 *       show traffic on both queues;
 *   1.6 `vpio down` leaves no netfront process, no namespace, no TAP (of
 *       every guest above, the multi-queue ones included; it runs last).
 * Real platform (`vpio up` on a temp dir), real processes and devices; all
 * traffic stays inside the namespaces the platform creates.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliveNotZombie, connected, consoleOf, ended, netfrontCounters, netNamespaceOf, netNamespaces, tempBase, until, vpio, XFER } from './helpers.js';
import { processTree } from '@vpio/cli/test-utils';

const t = tempBase();
const MINIOS = resolve(import.meta.dirname, '../../minios/build/vpio-minios');
const MINIOS_RESPONDER = resolve(import.meta.dirname, '../../minios/configs/ping-responder.click');
let platformPid = 0;
const nsBefore = netNamespaces();
const tunsBefore = readdirSync('/sys/class/net').filter((n) => { try { readFileSync(`/sys/class/net/${n}/tun_flags`); return true; } catch { return false; } });

async function run(name: string, args: readonly string[]): Promise<void> {
  const r = await vpio(['run', '--dir', t.dir, '--name', name, '--linux', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('Linux guests over the switch', () => {
  beforeAll(async () => {
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    platformPid = Number(/pid (\d+)/.exec(up.stdout)?.[1]);
  });

  afterAll(async () => {
    if (platformPid) await vpio(['down', '--dir', t.dir]);
    t.cleanup();
  });

  it('1.0 run --linux refuses bad addresses, --ip without --linux and a second vif, before any guest starts', async () => {
    const bad = await vpio(['run', '--dir', t.dir, '--linux', '--ip', '10.61.0.1', '--', '/bin/true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ip: expected A.B.C.D/PREFIX (prefix 1..32), got "10.61.0.1"');
    const bad6 = await vpio(['run', '--dir', t.dir, '--linux', '--ip6', 'fd61::1/129', '--', '/bin/true']);
    expect(bad6.code).toBe(2);
    expect(bad6.stderr).toContain('--ip6');
    const noLinux = await vpio(['run', '--dir', t.dir, '--ip', '10.61.0.1/24', '/bin/true']);
    expect(noLinux.code).toBe(2);
    expect(noLinux.stderr).toContain('--ip: expected only with --linux');
    const twoVifs = await vpio(['run', '--dir', t.dir, '--linux', '--vif', 'vlan=1', '--vif', 'vlan=2', '--', '/bin/true']);
    expect(twoVifs.code).not.toBe(0);
    expect(twoVifs.stderr).toContain('at most one --vif with --linux');
    expect(JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout)).toEqual({ domains: [] });
  });

  it('1.1 one guest pings the other over IPv4 and IPv6', async () => {
    await run('ping-a', ['--ip', '10.61.0.1/24', '--ip6', 'fd61::1/64', '--', '/bin/sleep', '120']);
    await connected(t.dir, 'ping-a');
    await run('ping-b', ['--ip', '10.61.0.2/24', '--ip6', 'fd61::2/64', '--', '/bin/sh', '-c', 'ping -c 5 -i 0.2 -w 20 10.61.0.1 && ping -6 -c 3 -i 0.2 -w 20 fd61::1']);
    const b = await ended(t.dir, 'ping-b');
    expect(b.exit?.code, `${b.text}\n${b.stderr}`).toBe(0);
    expect(b.text).toContain('5 packets transmitted, 5 received');
    expect(b.text).toContain('3 packets transmitted, 3 received');
    const c = netfrontCounters(b.text);
    expect(c).toMatchObject({ tx_drop_size: 0, tap_tx_errors: 0 });
    expect(Number(c?.tap_tx)).toBeGreaterThanOrEqual(8); // the replies came in through the TAP
  });

  it('1.2 a 100 MB file crosses over TCP with its sha256 intact at both ends', async () => {
    const files = join(t.base, 'files');
    mkdirSync(join(files, 'out'), { recursive: true });
    chmodSync(files, 0o755);
    chmodSync(join(files, 'out'), 0o777);
    const src = join(files, 'src.bin');
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const w = createWriteStream(src, { mode: 0o644 });
      for (let i = 0; i < 100; i++) {
        const chunk = randomBytes(1 << 20);
        hash.update(chunk);
        w.write(chunk);
      }
      w.end();
      w.on('finish', resolve);
      w.on('error', reject);
    });
    const want = hash.digest('hex');
    const out = join(files, 'out', 'dst.bin');

    await run('xfer-srv', ['--ip', '10.61.0.3/24', '--', '/bin/sh', '-c', `sha256sum ${src} && exec ${XFER} serve 5001 ${src}`]);
    await connected(t.dir, 'xfer-srv');
    await until('the server to listen', async () => ((await consoleOf(t.dir, 'xfer-srv')).text.includes('listening=5001') ? true : undefined));
    await run('xfer-cli', ['--ip', '10.61.0.4/24', '--', '/bin/sh', '-c', `${XFER} get 10.61.0.3 5001 ${out} && sha256sum ${out}`]);
    const cli = await ended(t.dir, 'xfer-cli', 120_000);
    const srv = await ended(t.dir, 'xfer-srv', 30_000);
    expect(cli.exit?.code, `${cli.text}\n${cli.stderr}`).toBe(0);
    expect(srv.exit?.code, `${srv.text}\n${srv.stderr}`).toBe(0);
    expect(srv.text).toContain(`${want}  ${src}`);
    expect(srv.text).toContain(`sent=${100 << 20}`);
    expect(cli.text).toContain(`received=${100 << 20}`);
    expect(cli.text).toContain(`${want}  ${out}`);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(want);
    // offloads end to end: the sender's kernel handed over TSO super-frames, the receiver's TAP took them whole
    const sc = netfrontCounters(srv.text);
    const cc = netfrontCounters(cli.text);
    expect(sc).toMatchObject({ offload: 1, tx_drop_hdr: 0, tx_drop_size: 0, rx_drop_bad: 0, tap_tx_errors: 0 });
    expect(cc).toMatchObject({ offload: 1, tx_drop_hdr: 0, tx_drop_size: 0, rx_drop_bad: 0, tap_tx_errors: 0 });
    expect(Number(sc?.tx_gso)).toBeGreaterThan(0);
    expect(Number(cc?.rx_gso)).toBeGreaterThan(0);
    expect(Number(sc?.tx_packets)).toBeLessThan((100 << 20) / 1448); // fewer frames than MSS-sized segments
  }, 150_000);

  it('1.2b TCP from an offload guest to an --offload off guest: the switch segments the super-frames, the file arrives intact', async () => {
    const files = join(t.base, 'files-gso');
    mkdirSync(join(files, 'out'), { recursive: true });
    chmodSync(files, 0o755);
    chmodSync(join(files, 'out'), 0o777);
    const src = join(files, 'src.bin');
    const data = randomBytes(20 << 20);
    writeFileSync(src, data, { mode: 0o644 });
    const want = createHash('sha256').update(data).digest('hex');
    const out = join(files, 'out', 'dst.bin');
    await run('gso-srv', ['--ip', '10.61.0.7/24', '--', XFER, 'serve', '5002', src]);
    await connected(t.dir, 'gso-srv');
    await until('the server to listen', async () => ((await consoleOf(t.dir, 'gso-srv')).text.includes('listening=5002') ? true : undefined));
    // sha256sum after the transfer keeps the guest (and its netfront) up while its FIN reaches the server
    await run('gso-cli', ['--ip', '10.61.0.8/24', '--offload', 'off', '--', '/bin/sh', '-c', `${XFER} get 10.61.0.7 5002 ${out} && sha256sum ${out}`]);
    const cli = await ended(t.dir, 'gso-cli', 120_000);
    const srv = await ended(t.dir, 'gso-srv', 30_000);
    expect(cli.exit?.code, `${cli.text}\n${cli.stderr}`).toBe(0);
    expect(srv.exit?.code, `${srv.text}\n${srv.stderr}`).toBe(0);
    expect(cli.text).toContain(`${want}  ${out}`);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(want);
    const sc = netfrontCounters(srv.text);
    const cc = netfrontCounters(cli.text);
    // the sender handed over super-frames; the receiver never asked for offloads and got plain frames only
    expect(sc).toMatchObject({ offload: 1 });
    expect(Number(sc?.tx_gso)).toBeGreaterThan(0);
    expect(cc).toMatchObject({ offload: 0, rx_gso: 0, rx_drop_bad: 0 });
  }, 150_000);

  it('1.3 iperf3 runs between two guests (TCP, 1 stream, 3 s; rate printed, not asserted)', async () => {
    await run('iperf-srv', ['--ip', '10.61.0.5/24', '--', '/usr/bin/iperf3', '-s', '-1']);
    await connected(t.dir, 'iperf-srv');
    await run('iperf-cli', ['--ip', '10.61.0.6/24', '--', '/bin/sh', '-c', 'sleep 0.5; exec /usr/bin/iperf3 -c 10.61.0.5 -t 3 --json']);
    const cli = await ended(t.dir, 'iperf-cli', 60_000);
    expect(cli.exit?.code, `${cli.text}\n${cli.stderr}`).toBe(0);
    const json = cli.text.slice(cli.text.indexOf('{\n'));
    const report = JSON.parse(json.slice(0, json.lastIndexOf('\n}') + 2)) as { end: { sum_sent: { bits_per_second: number; retransmits: number }; sum_received: { bits_per_second: number } } };
    const gbps = report.end.sum_received.bits_per_second / 1e9;
    expect(gbps).toBeGreaterThan(0);
    console.log(`iperf3 TCP, 1 stream, 3 s, Linux guest -> Linux guest: ${gbps.toFixed(2)} Gb/s received, ${report.end.sum_sent.retransmits} retransmits`);
    await ended(t.dir, 'iperf-srv', 30_000);
  }, 90_000);

  it('1.7 two guests with --queues 2: a 2-queue TAP, two ring pairs in one switch group, ping, 12 TCP streams intact, traffic on both queues', async () => {
    const files = join(t.base, 'files-mq');
    mkdirSync(join(files, 'out'), { recursive: true });
    chmodSync(files, 0o755);
    chmodSync(join(files, 'out'), 0o777);
    const STREAMS = 12; // each flow lands on one of 2 queues: all 12 on one by chance is 1 in 2048
    const want: string[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const data = randomBytes(6 << 20);
      writeFileSync(join(files, `src${i}.bin`), data, { mode: 0o644 });
      want.push(createHash('sha256').update(data).digest('hex'));
    }
    const ports = Array.from({ length: STREAMS }, (_, i) => 5100 + i);
    // the server: one lnf-xfer per stream, each on its own port, all at once
    const serve = ports.map((p, i) => `${XFER} serve ${p} ${join(files, `src${i}.bin`)} &`).join(' ');
    await run('mq-srv', ['--queues', '2', '--ip', '10.61.0.9/24', '--', '/bin/sh', '-c', `${serve} wait`]);
    await connected(t.dir, 'mq-srv');
    await until('the servers to listen', async () => ((await consoleOf(t.dir, 'mq-srv')).text.match(/listening=51/g)?.length === STREAMS ? true : undefined));
    // vif 0 of each guest is two switch ports in one group (looked at while each is up: the client waits a second first)
    const vif0 = async (name: string): Promise<{ queues: number; queuePorts: number[] } | undefined> => {
      const ls = JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout) as { domains: { name: string; vifs: { queues: number; queuePorts: number[] }[] }[] };
      return ls.domains.find((d) => d.name === name)?.vifs[0];
    };
    expect(await vif0('mq-srv')).toMatchObject({ queues: 2, queuePorts: [expect.any(Number), expect.any(Number)] });
    const get = ports.map((p, i) => `${XFER} get 10.61.0.9 ${p} ${join(files, 'out', `dst${i}.bin`)} &`).join(' ');
    const sums = ports.map((_, i) => join(files, 'out', `dst${i}.bin`)).join(' ');
    await run('mq-cli', ['--queues', '2', '--ip', '10.61.0.10/24', '--', '/bin/sh', '-c',
      `sleep 1; ip -d link show eth0 && ping -c 3 -i 0.2 -w 20 10.61.0.9 && ${get} wait && sha256sum ${sums}`]);
    await connected(t.dir, 'mq-cli');
    expect(await vif0('mq-cli')).toMatchObject({ queues: 2, queuePorts: [expect.any(Number), expect.any(Number)] });
    const cli = await ended(t.dir, 'mq-cli', 120_000);
    const srv = await ended(t.dir, 'mq-srv', 30_000);
    expect(cli.exit?.code, `${cli.text}\n${cli.stderr}`).toBe(0);
    expect(srv.exit?.code, `${srv.text}\n${srv.stderr}`).toBe(0);
    expect(cli.text).toMatch(/multi_queue numqueues 2\b/);
    expect(cli.text).toContain('3 packets transmitted, 3 received');
    for (let i = 0; i < STREAMS; i++) {
      expect(cli.text).toContain(`${want[i]}  ${join(files, 'out', `dst${i}.bin`)}`);
      expect(createHash('sha256').update(readFileSync(join(files, 'out', `dst${i}.bin`))).digest('hex')).toBe(want[i]);
    }
    expect(srv.stderr).toContain('2 queues');
    // per-queue counters: both guests moved frames through both of their queues, each way
    for (const [who, c] of [['server', netfrontCounters(srv.text)], ['client', netfrontCounters(cli.text)]] as const) {
      expect(c, who).toMatchObject({ queues: 2, offload: 1, tx_drop_hdr: 0, tx_drop_size: 0, rx_drop_bad: 0, tap_tx_errors: 0 });
      const per = c!.per_queue as unknown as Array<Record<string, number>>;
      expect(per).toHaveLength(2);
      expect(per.map((q) => q.tx_packets! + q.rx_packets!).every((n) => n > 0), `${who}: ${JSON.stringify(per)}`).toBe(true);
      expect(per.reduce((a, q) => a + q.tx_packets!, 0)).toBe(c!.tx_packets);
    }
    // the data went out of the server through both of its TAP queues: the tun driver sends a flow's replies
    // out of the queue its packets came in on, which the switch's group hash picked
    const sp = netfrontCounters(srv.text)!.per_queue as unknown as Array<Record<string, number>>;
    expect(sp.filter((q) => q.tx_gso! > 0).length, JSON.stringify(sp)).toBe(2);
  }, 180_000);

  it('1.4 destroy stops the command and the netfront disconnects cleanly, printing its counters', async () => {
    const d = await vpio(['destroy', '--dir', t.dir, 'ping-a', '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ name: 'ping-a', exit: { reason: 'destroyed' } });
    const a = await consoleOf(t.dir, 'ping-a');
    expect(a.alive).toBe(false);
    expect(netfrontCounters(a.text)).toMatchObject({ why: 'exit' });
    expect(a.stderr).not.toContain('disconnect:'); // nf_disconnect returned 0: the backend followed
    expect(a.exit?.code).toBe(128 + 15); // sleep's SIGTERM status passes through
  });

  it('1.5 a Linux guest with offloads pings a minios guest, which gets plain frames', async () => {
    expect(existsSync(MINIOS), `${MINIOS} (build minios first)`).toBe(true);
    const resp = await vpio(['run', '--dir', t.dir, '--name', 'mo-resp', '--vif', 'mac=02:00:00:00:61:02', MINIOS, MINIOS_RESPONDER]);
    expect(resp.code, resp.stderr).toBe(0);
    await connected(t.dir, 'mo-resp');
    await run('mo-ping', ['--ip', '10.0.0.1/24', '--ip6', 'fd00::1/64', '--', '/bin/sh', '-c', 'ping -c 3 -i 0.2 -w 20 10.0.0.2 && ping -6 -c 3 -i 0.2 -w 20 fd00::2']);
    const p = await ended(t.dir, 'mo-ping');
    expect(p.exit?.code, `${p.text}\n${p.stderr}`).toBe(0);
    expect(p.text).toContain('3 packets transmitted, 3 received');
    expect(netfrontCounters(p.text)).toMatchObject({ offload: 1, tx_drop_hdr: 0, rx_drop_bad: 0, tap_tx_errors: 0 });
    expect((await vpio(['destroy', '--dir', t.dir, 'mo-resp'])).code).toBe(0);
  });

  it('1.6 down leaves no netfront process, no guest namespace and no TAP device', async () => {
    // this platform's processes (not the machine's: other suites may run guests meanwhile): the platform,
    // every launcher, netfront and command below it, and the network namespaces they hold (each with its TAP)
    expect(aliveNotZombie(platformPid)).toBe(true);
    const ours = processTree(platformPid);
    const theirNs = new Set(ours.map(netNamespaceOf).filter((ns): ns is string => ns !== undefined && !nsBefore.has(ns)));
    const r = await vpio(['down', '--dir', t.dir]);
    expect(r.code).toBe(0);
    platformPid = 0;
    expect(ours.filter(aliveNotZombie)).toEqual([]);
    const leaked = [...netNamespaces()].filter((ns) => theirNs.has(ns));
    expect(leaked).toEqual([]);
    const tuns = readdirSync('/sys/class/net').filter((n) => { try { readFileSync(`/sys/class/net/${n}/tun_flags`); return true; } catch { return false; } });
    expect(tuns).toEqual(tunsBefore);
  });
});
