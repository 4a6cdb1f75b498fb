/**
 * Loads the addon (build/Release/vpio_ring.node). Test and tool support
 * only: the public API (src/index.ts) never imports this module, and nothing
 * in vpio calls the addon per packet. See src/ring-harness.ts for the
 * validated wrappers tests use.
 *
 * The package root is found by walking up from this file to the
 * package.json named @vpio/ring, so the same code works from src/ (vitest)
 * and from dist/ (bundled).
 */
import { loadAddon, packageRoot as findPackageRoot } from '@vpio/addon';

/** A struct's layout as the addon computes it (same shape as the generated file). */
export interface NativeStructLayout {
  readonly size: number;
  readonly align: number;
  readonly fields: Readonly<Record<string, { readonly offset: number; readonly size: number }>>;
}

/** addon.layout(): keys and shape of src/layout.generated.ts. */
export interface NativeLayout {
  readonly VRING_HDR: NativeStructLayout;
  readonly VRING_SLOT: NativeStructLayout;
  readonly VRING_OFFLOAD: NativeStructLayout;
  readonly VRING: Readonly<Record<string, number>>;
  readonly VRING_KIND: Readonly<Record<string, number>>;
  readonly VRING_F: Readonly<Record<string, number>>;
  readonly VRING_FEAT: Readonly<Record<string, number>>;
  readonly VRING_OFL: Readonly<Record<string, number>>;
  readonly VRING_GSO: Readonly<Record<string, number>>;
  readonly VRING_VERDICT: Readonly<Record<string, number>>;
  readonly VRING_VERDICT_NAMES: readonly string[];
}

/** The arguments of vring_be_init(), by their C names. */
export interface NativeGeometry {
  readonly kind: number;
  readonly numSlots: number;
  readonly bufSize: number;
  readonly nrBufs: number;
  readonly firstBuf?: number;
  readonly features?: number;
}

export interface NativeOffload {
  readonly csumStart: number;
  readonly csumOffset: number;
  readonly gsoSize: number;
  readonly gsoType: number;
  readonly oflags: number;
}

export interface NativeSlot {
  readonly bufIdx: number;
  readonly len: number;
  readonly flags: number;
  readonly offload?: NativeOffload;
}

export interface NativeLimits {
  readonly bufSize: number;
  readonly nrBufs: number;
  readonly features: number;
}

/** Result of a burst that delivers packets to JS. drops[v] counts slots dropped with verdict v. */
export interface NativeBurstOut {
  readonly packets: Buffer[];
  readonly drops: number[];
  readonly kick: number;
}

export interface NativeRingHarness {
  beInit(geometry: NativeGeometry): number;
  feAttach(kind: number): number;
  feTxBurst(packets: readonly Uint8Array[]): { n: number; kick: number };
  beTxBurst(max: number): NativeBurstOut;
  beRxBurst(packets: readonly Uint8Array[]): { n: number; drops: number[]; kick: number };
  feRxBurst(max: number): { packets: Buffer[]; kick: number };
  bePrepareSleep(): number;
  fePrepareSleep(): number;
  beWoken(): void;
  feWoken(): void;
  readonly hwcur: number;
  readonly hwtail: number;
  readonly feHead: number;
  readonly feTailCache: number;
}

/** The raw addon. Every function checks its arguments and throws (code ERR_ARGUMENT) rather than crash. */
export interface NativeRingAddon {
  layout(): NativeLayout;
  checkHead(head: number, hwcur: number, hwtail: number, numSlots: number): number;
  checkCur(cur: number, head: number, hwtail: number, numSlots: number): number;
  checkSlot(slot: NativeSlot, limits: NativeLimits, first: boolean): number;
  checkOffload(offload: NativeOffload, pktLen: number): number;
  initRing(buffer: Uint8Array, byteOffset: number, geometry: NativeGeometry): number;
  RingHarness: new (ring: Uint8Array, pool: Uint8Array) => NativeRingHarness;
}


let addon: NativeRingAddon | undefined;

/** Loads the addon once per module instance (per thread). Throws VpioError RING_ADDON_MISSING. */
export function loadNative(): NativeRingAddon {
  addon ??= loadAddon<NativeRingAddon>({ packageName: '@vpio/ring', addonName: 'vpio_ring', fromUrl: import.meta.url, code: 'RING_ADDON_MISSING' });
  return addon;
}

/** The directory of the package.json named @vpio/ring above this module. */
export function packageRoot(): string {
  return findPackageRoot('@vpio/ring', import.meta.url, 'RING_ADDON_MISSING');
}
