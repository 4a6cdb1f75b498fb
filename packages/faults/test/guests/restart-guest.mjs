// SPDX-License-Identifier: MIT
//
// restart-guest.mjs: a Node tenant of `vpio run` on @vpio/netfront's
// Netfront, in one of two roles:
//
//   restart-guest.mjs echo
//       opens vif 0 once and sends every frame it receives back to its
//       source (MACs swapped), until SIGTERM; then closes cleanly.
//   restart-guest.mjs restart --peer MAC [--rounds N] [--count N]
//       N times: opens vif 0 (the same vif of the same domain, the platform
//       untouched), probes the peer until an echo comes back, sends COUNT
//       sequenced FNV-checksummed frames (round number inside) and checks
//       every echo (length, checksum, round, order), then closes it cleanly
//       (frontend Closing → Closed: the backend keeps the vif for the next
//       open). One JSON line per round, then {"event":"done"}.
import { Netfront } from '@vpio/netfront';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const SIZE = 200;
const TYPE = 0xb5;

function fnv1a(b, from, to) {
  let h = 2166136261;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 16777619) >>> 0;
  return h;
}

function frame(dst, src, round, seq) {
  const p = Buffer.alloc(SIZE);
  dst.copy(p, 0);
  src.copy(p, 6);
  p[12] = 0x88;
  p[13] = TYPE;
  p.writeUInt32LE(round, 14);
  p.writeUInt32LE(seq, 18);
  for (let i = 26; i < SIZE; i++) p[i] = (seq * 7 + round * 13 + i) & 0xff;
  p.writeUInt32LE(fnv1a(p, 26, SIZE), 22);
  return p;
}

async function echo() {
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  const nf = await Netfront.open({ devid: 0, mode: 'event', timeoutMs: 10_000 });
  say({ event: 'connected', mac: nf.mac });
  let echoed = 0;
  while (!stop) {
    if (!(await nf.waitReadable(50))) continue;
    const back = nf.receive().map((f) => {
      const b = Buffer.from(f);
      f.copy(b, 0, 6, 12);
      f.copy(b, 6, 0, 6);
      return b;
    });
    for (let off = 0; off < back.length && !stop; ) {
      const n = nf.send(back.slice(off));
      off += n;
      if (n === 0) await nf.waitWritable(50);
    }
    echoed += back.length;
  }
  await nf.close();
  say({ event: 'closed', echoed });
}

async function restart() {
  const peer = Buffer.from(opt('--peer', '').split(':').map((h) => parseInt(h, 16)));
  const rounds = Number(opt('--rounds', '3'));
  const count = Number(opt('--count', '2000'));
  for (let round = 1; round <= rounds; round++) {
    const nf = await Netfront.open({ devid: 0, mode: 'event', timeoutMs: 10_000 });
    const me = nf.macBytes;
    let got = 0, next = 0, corrupt = 0, reordered = 0, stale = 0, probes = 0, sent = 0;
    const check = (f) => {
      if (f.length < 26 || f[12] !== 0x88) return;
      if (f[13] !== TYPE) return; // an echoed probe
      if (f.readUInt32LE(14) !== round) { stale++; return; }
      if (f.length !== SIZE || f.readUInt32LE(22) !== fnv1a(f, 26, SIZE)) { corrupt++; return; }
      if (f.readUInt32LE(18) !== next) reordered++;
      next = f.readUInt32LE(18) + 1;
      got++;
    };
    // meet the echo: a probe every 10 ms until one comes back
    const probe = Buffer.alloc(60);
    peer.copy(probe, 0);
    me.copy(probe, 6);
    probe[12] = 0x88;
    probe[13] = 0xb6;
    for (let heard = false; !heard; ) {
      if (probes++ > 1000) throw new Error('the echo never answered');
      nf.send([probe]);
      if (await nf.waitReadable(10)) for (const f of nf.receive()) { heard ||= f[13] === 0xb6; check(f); }
    }
    const deadline = Date.now() + 15_000;
    while ((sent < count || got < count) && Date.now() < deadline) {
      const burst = [];
      for (let k = 0; k < 32 && sent + burst.length < count; k++) burst.push(frame(peer, me, round, sent + burst.length));
      if (burst.length) sent += nf.send(burst);
      if (await nf.waitReadable(sent < count ? 0 : 20)) for (const f of nf.receive()) check(f);
    }
    await nf.close();
    say({ event: 'round', round, sent, echoed: got, corrupt, reordered, stale, probes });
  }
  say({ event: 'done', rounds });
}

try {
  await (args[0] === 'echo' ? echo() : restart());
} catch (e) {
  say({ event: 'error', step: args[0], rc: -(e?.cause?.errno ?? 22), message: String(e?.message ?? e) });
  process.exit(3);
}
