/**
 * The Xen PV kernel image (build/vpio-minios-pv, `make pv`; built by `make
 * all` on x86_64 hosts with Xen's headers): what the domain builder reads
 * from it, and what the freestanding build promises. It boots in the lab
 * (xen/tests/minios-pv.sh); here, the file itself: an x86_64 ELF executable
 * whose PT_NOTE carries the Xen notes with the right values, loaded in full
 * below 1 GiB (the grant window starts at 512 MiB) and small enough for a
 * 32 MiB guest, with no undefined symbol and no FPU/SSE instruction.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const IMG = join(root, 'build', 'vpio-minios-pv');
const DEBUG = join(root, 'build', 'vpio-minios-pv.debug');
const built = existsSync(IMG) && existsSync(DEBUG);

/* xen/elfnote.h */
const NOTE = { ENTRY: 1, HYPERCALL_PAGE: 2, VIRT_BASE: 3, PADDR_OFFSET: 4, XEN_VERSION: 5, GUEST_OS: 6, LOADER: 8 } as const;
const PT_LOAD = 1;
const PT_NOTE = 4;

interface Elf {
  type: number;
  machine: number;
  entry: bigint;
  phdrs: { type: number; offset: number; vaddr: bigint; filesz: number; memsz: number }[];
}

function parseElf(b: Buffer): Elf {
  expect(b.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(b[4]).toBe(2); // ELFCLASS64
  expect(b[5]).toBe(1); // little endian
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const phdrs = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    phdrs.push({
      type: b.readUInt32LE(o),
      offset: Number(b.readBigUInt64LE(o + 8)),
      vaddr: b.readBigUInt64LE(o + 16),
      filesz: Number(b.readBigUInt64LE(o + 32)),
      memsz: Number(b.readBigUInt64LE(o + 40)),
    });
  }
  return { type: b.readUInt16LE(16), machine: b.readUInt16LE(18), entry: b.readBigUInt64LE(24), phdrs };
}

/** The "Xen" notes of the PT_NOTE segments: type -> descriptor bytes. */
function xenNotes(b: Buffer, elf: Elf): Map<number, Buffer> {
  const notes = new Map<number, Buffer>();
  const align4 = (n: number): number => (n + 3) & ~3;
  for (const ph of elf.phdrs.filter((p) => p.type === PT_NOTE)) {
    for (let o = ph.offset; o + 12 <= ph.offset + ph.filesz; ) {
      const namesz = b.readUInt32LE(o);
      const descsz = b.readUInt32LE(o + 4);
      const type = b.readUInt32LE(o + 8);
      const name = b.subarray(o + 12, o + 12 + namesz).toString('latin1');
      const desc = b.subarray(o + 12 + align4(namesz), o + 12 + align4(namesz) + descsz);
      if (name === 'Xen\0') notes.set(type, desc);
      o += 12 + align4(namesz) + align4(descsz);
    }
  }
  return notes;
}

const str = (d: Buffer | undefined): string | undefined => d?.toString('latin1').replace(/\0+$/, '');
const u64 = (d: Buffer | undefined): bigint | undefined => (d && d.length === 8 ? d.readBigUInt64LE(0) : undefined);

describe.skipIf(!built)('vpio-minios-pv image', () => {
  const b = built ? readFileSync(IMG) : Buffer.alloc(0);
  const elf = built ? parseElf(b) : undefined;

  it('is an x86_64 ELF executable entered at _start (VA 0, page 0)', () => {
    expect(elf!.type).toBe(2); // ET_EXEC
    expect(elf!.machine).toBe(62); // EM_X86_64
    expect(elf!.entry).toBe(0n);
  });

  it('carries the Xen notes the domain builder needs, with their values', () => {
    const n = xenNotes(b, elf!);
    expect(str(n.get(NOTE.GUEST_OS))).toBe('vpio-minios');
    expect(str(n.get(NOTE.XEN_VERSION))).toBe('xen-3.0');
    expect(str(n.get(NOTE.LOADER))).toBe('generic');
    expect(u64(n.get(NOTE.VIRT_BASE))).toBe(0n);
    expect(u64(n.get(NOTE.PADDR_OFFSET))).toBe(0n);
    expect(u64(n.get(NOTE.ENTRY))).toBe(elf!.entry);
    expect(u64(n.get(NOTE.HYPERCALL_PAGE))).toBe(0x1000n); // page-aligned, right after the entry page
  });

  it('loads below the grant window (512 MiB) and fits a 32 MiB guest with room to spare', () => {
    const loads = elf!.phdrs.filter((p) => p.type === PT_LOAD);
    const end = loads.reduce((m, p) => (p.vaddr + BigInt(p.memsz) > m ? p.vaddr + BigInt(p.memsz) : m), 0n);
    expect(end).toBeLessThan(512n << 20n);
    expect(Number(end)).toBeLessThanOrEqual(16 << 20); // heap (8 MiB by default) + code and data
  });

  it('is at most 256 KB on disk, stripped', () => {
    expect(statSync(IMG).size).toBeLessThanOrEqual(256 * 1024);
  });

  it('leaves no symbol undefined', () => {
    expect(execFileSync('nm', ['-u', DEBUG]).toString()).toBe('');
  });

  it('contains no x87 or SSE instruction (the kernel keeps no FPU state; CR0.TS traps any)', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', DEBUG], { maxBuffer: 64 << 20 }).toString();
    const fpu = asm.split('\n').filter((l) => /%[xyz]mm\d|%st\b|%st\(|\tf(ld|st|add|sub|mul|div|ild|ist|xsave|xrstor|nsave|rstor)\S*(\s|$)/.test(l));
    expect(fpu).toEqual([]);
  });
});
