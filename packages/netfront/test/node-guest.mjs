// SPDX-License-Identifier: MIT
//
// node-guest.mjs: the Node twin of test/c/nf-guest.c's broker mode, on
// @vpio/netfront's Netfront (the addon). Run by `vpio run node
// node-guest.mjs --peer MAC [--peer MAC]... [--count N] [--size B] [--devid
// N] [--mode event|poll]`. Same JSON lines on stdout ("connected", "peers",
// "done", "closed", "error"), same packets (Ethernet dst = peer, src = own
// MAC, type 0x88b5, then u32 sequence, u32 length, u32 FNV-1a of the rest, a
// pattern from the sequence), same meeting of the peers (probe frames of
// type 0x88b6 to each peer until it is heard; a peer's data counts as
// hearing it), so it pairs with C guests.
import { Netfront } from '@vpio/netfront';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const fail = (step, e) => {
  say({ event: 'error', step, rc: -(e?.cause?.errno ?? 22), message: String(e?.message ?? e) });
  process.exit(3);
};

const devid = Number(opt('--devid', '0'));
const mode = opt('--mode', 'event');
const count = Number(opt('--count', '1000'));
const size = Number(opt('--size', '128'));
const peerTexts = args.flatMap((a, i) => (a === '--peer' && i + 1 < args.length ? [args[i + 1]] : []));
const peers = (peerTexts.length ? peerTexts : ['02:00:00:00:00:02']).map((t) => ({
  mac: Buffer.from(t.split(':').map((h) => parseInt(h, 16))),
  heard: false, sent: 0, received: 0, corrupt: 0, reordered: 0, expect: 0,
}));
if (peers.some((p) => p.mac.length !== 6) || size < 26 || size > 2048) fail('usage', new Error('bad --peer or --size'));
let foreign = 0;

function fnv1a(b, from) {
  let h = 2166136261;
  for (let i = from; i < b.length; i++) h = Math.imul(h ^ b[i], 16777619) >>> 0;
  return h;
}

function frame(dst, src, type, seq) {
  const p = Buffer.alloc(type === 0xb5 ? size : 60);
  dst.copy(p, 0);
  src.copy(p, 6);
  p[12] = 0x88;
  p[13] = type;
  if (type !== 0xb5) return p;
  p.writeUInt32LE(seq, 14);
  p.writeUInt32LE(size, 18);
  for (let i = 26; i < size; i++) p[i] = (seq * 7 + i) & 0xff;
  p.writeUInt32LE(fnv1a(p, 26), 22);
  return p;
}

/** A probe or data from a peer (the peer is heard), or a foreign frame. */
function account(f) {
  const q = f.length >= 14 ? peers.find((p) => f.subarray(6, 12).equals(p.mac)) : undefined;
  if (!q || f[12] !== 0x88 || (f[13] !== 0xb5 && f[13] !== 0xb6)) {
    foreign++;
    return;
  }
  q.heard = true;
  if (f[13] === 0xb6) return;
  q.received++;
  if (f.length !== size || f.readUInt32LE(18) !== size || f.readUInt32LE(22) !== fnv1a(f, 26)) {
    q.corrupt++;
    return;
  }
  if (f.readUInt32LE(14) !== q.expect) q.reordered++;
  q.expect = f.readUInt32LE(14) + 1;
}

let nf;
try {
  nf = await Netfront.open({ devid, mode, timeoutMs: 10_000 });
} catch (e) {
  fail('connect', e);
}
say({ event: 'connected', mac: nf.mac, mtu: nf.mtu, txSlots: nf.txSlots, rxSlots: nf.rxSlots });
const own = nf.macBytes;

// meet the peers: probe each one not heard yet, every 2 ms
{
  const t0 = Date.now();
  let last = 0;
  while (!peers.every((p) => p.heard)) {
    if (Date.now() - t0 > 15_000) fail('meet-peers', new Error('timed out'));
    if (Date.now() - last >= 2) {
      nf.send(peers.filter((p) => !p.heard).map((p) => frame(p.mac, own, 0xb6, 0)));
      last = Date.now();
    }
    const got = nf.receive();
    got.forEach(account);
    if (got.length === 0) await nf.waitReadable(1);
  }
  for (const p of peers) {
    while (nf.send([frame(p.mac, own, 0xb6, 0)]) === 0) if (!(await nf.waitWritable(5000))) fail('meet-last-probe', new Error('timed out'));
  }
  say({ event: 'peers' });
}

let last = Date.now();
let rr = 0;
for (;;) {
  const rxDone = peers.every((p) => p.received >= count);
  if (rxDone && peers.every((p) => p.sent >= count)) break;
  const frames = [];
  const owed = [];
  const next = peers.map((p) => p.sent);
  for (let idle = 0; frames.length < 32 && idle < peers.length; rr = (rr + 1) % peers.length) {
    if (next[rr] >= count) {
      idle++;
      continue;
    }
    idle = 0;
    frames.push(frame(peers[rr].mac, own, 0xb5, next[rr]));
    owed.push([rr, next[rr]++]);
  }
  const n = frames.length ? nf.send(frames) : 0;
  for (let k = 0; k < n; k++) peers[owed[k][0]].sent = owed[k][1] + 1;
  const got = nf.receive(64);
  got.forEach(account);
  if (n || got.length) {
    last = Date.now();
    if (got.length === 0) await new Promise(setImmediate); // let the loop breathe
    continue;
  }
  if (Date.now() - last > 10_000) break; // stalled: report what we have
  await (!rxDone ? nf.waitReadable(5) : nf.waitWritable(5));
}
// let the switch take everything queued before disconnecting
for (const t0 = Date.now(); nf.txSpace() !== nf.txSlots - 1 && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 1));
const s = nf.stats();
const sum = (k) => peers.reduce((a, p) => a + p[k], 0);
say({
  event: 'done', sent: sum('sent'), received: sum('received'), corrupt: sum('corrupt'), reordered: sum('reordered'), foreign,
  txKicks: s.txKicks, rxKicks: s.rxKicks, rxSleeps: s.rxSleeps,
});
try {
  await nf.close();
  say({ event: 'closed', rc: 0 });
} catch (e) {
  say({ event: 'closed', rc: -(e?.cause?.errno ?? 5) });
}
