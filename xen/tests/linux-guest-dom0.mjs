// linux-guest-dom0.mjs - a stand-in for `vpio up --mode xen` + `vpio run`
// in xen/tests/test-xen.sh (GUESTS=harness): the dom0 parts that exist, wired
// directly (@vpio/domain's XenDom0: Xen's xenstored, xen grants, xen event
// channels, xl; @vpio/switch; @vpio/netback), to run the Linux PV guests'
// netfront against the real netback on real Xen before the CLI has a xen
// mode. Not a product: the test's dom0 script drives it through files.
//
//   node linux-guest-dom0.mjs DIR SPEC.json
//     SPEC.json: [{ "name", "kernel", "ramdisk", "cmdline", "memoryMiB", "mac", "queues" (1) }, ...]
//   It starts the parts, creates each guest with one vif (created before the
//   guest runs: XenDomains' beforeUnpause hook), writes DIR/up ("<name> <domid>"
//   lines), then serves commands: a file DIR/cmd.N holding "ls" (vifs as JSON),
//   "destroy NAME" or "quit"; the reply goes to DIR/reply.N (written whole).
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = process.env.VPIO_REPO ?? '/vpio';
const { XenDom0 } = await import(`${repo}/packages/domain/dist/index.js`);
const { Netback, vifGrantBytes } = await import(`${repo}/packages/netback/dist/index.js`);
const { Switch } = await import(`${repo}/packages/switch/dist/index.js`);

const [dir, specPath] = process.argv.slice(2);
const specs = JSON.parse(readFileSync(specPath, 'utf8'));
const say = (m) => console.log(`harness: ${m}`);
const put = (name, text) => { writeFileSync(join(dir, `.${name}`), text); renameSync(join(dir, `.${name}`), join(dir, name)); };
const geometry = { txSlots: 1024, rxSlots: 1024, bufSizeBytes: 2048, mtu: 1500 };
const maxQueues = Math.max(1, ...specs.map((s) => s.queues ?? 1));
const pages = Math.ceil(vifGrantBytes(geometry, maxQueues) / 4096) + 16;

const dom0 = new XenDom0({ dir, maxDomains: 4, pagesPerDomain: pages, log: (e) => say(`[domain ${e.level}] ${e.event} ${e.message}`) });
await dom0.start();
say(`dom0 parts up: xenstore ${dom0.xenstorePath}, gntalloc limit ${dom0.gntallocLimit}`);
const sw = new Switch({ cores: [-1], mode: 'event' });
const nb = await Netback.start({ xenstore: dom0.xenstore, grants: dom0.grants, channels: dom0.evtchn, switch: sw },
  { lossless: true, log: (e) => say(`[netback ${e.level}] ${e.event ?? ''} ${e.message ?? ''}`) });
nb.on('vifState', (v, side, state) => say(`vif ${v.domid}/${v.devid} ${side} state ${state}`));
nb.on('vifError', (v, text) => say(`vif ${v.domid}/${v.devid} error: ${text}`));
dom0.domains.on?.('domainReleased', (d) => { say(`domain ${d.domid} released`); void nb.releaseDomain(d.domid).catch(() => undefined); });

const domids = new Map();
const lines = [];
for (const s of specs) {
  try {
    const d = await dom0.domains.createDomain(
      { name: s.name, kernel: s.kernel, ramdisk: s.ramdisk, cmdline: s.cmdline, memoryMiB: s.memoryMiB ?? 256 },
      { beforeUnpause: async (domid) => { await nb.createVif(domid, { mac: s.mac, ...geometry, queues: s.queues ?? 1 }); } },
    );
    domids.set(s.name, d.domid);
    lines.push(`${s.name} ${d.domid}`);
    say(`created ${s.name}: domid ${d.domid}`);
  } catch (e) {
    lines.push(`${s.name} fail ${e.message}`);
    say(`create ${s.name} failed: ${e.message}`);
  }
}
put('up', `${lines.join('\n')}\n`);

const ls = () => JSON.stringify({
  vifs: nb.vifs().map((v) => ({ domid: v.domid, devid: v.devid, mac: v.mac, backendState: v.backendState, port: v.port, ports: v.ports, queues: v.queues, offload: v.offload })),
  switchPorts: sw.stats().ports.map((q) => ({ id: q.id, inPackets: q.inPackets, outPackets: q.outPackets, drops: q.drops })),
});
for (;;) {
  await new Promise((r) => setTimeout(r, 250));
  for (const f of readdirSync(dir).filter((n) => /^cmd\.\d+$/.test(n))) {
    const n = f.slice(4);
    const cmd = readFileSync(join(dir, f), 'utf8').trim();
    rmSync(join(dir, f));
    let reply = 'ok';
    try {
      if (cmd === 'ls') reply = ls();
      else if (cmd.startsWith('destroy ')) {
        const name = cmd.slice(8);
        await dom0.domains.destroyDomain(domids.get(name));
        await nb.releaseDomain(domids.get(name)).catch(() => undefined);
        reply = `destroyed ${name}`;
      } else if (cmd === 'quit') {
        await nb.close();
        await dom0.close();
        sw.close();
        put(`reply.${n}`, 'closed');
        say('closed');
        process.exit(0);
      } else reply = `unknown command ${cmd}`;
    } catch (e) {
      reply = `error ${e.message}`;
    }
    put(`reply.${n}`, reply);
  }
}
