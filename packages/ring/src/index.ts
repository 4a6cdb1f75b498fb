/**
 * @vpio/ring: the shared ring ABI of vpio. The C headers (include/vpio/) are
 * the contract and the data path; this module is the TypeScript view of the
 * same memory for the control plane: layout constants generated from
 * ring.h, the validators with exactly ring.h's rules, and RingView.
 *
 * The addon and the RingHarness (src/native.ts, src/ring-harness.ts) are
 * test support and not part of this API.
 */
export {
  DEFAULT_BUF_SIZE_BYTES,
  DEFAULT_SLOTS,
  ETH_HLEN_BYTES,
  GSO,
  HEADER_LAYOUT,
  MAX_BUF_SIZE_BYTES,
  MAX_SLOTS,
  MIN_BUF_SIZE_BYTES,
  MIN_SLOTS,
  OFFLOAD_FLAGS,
  OFFLOAD_LAYOUT,
  RING_ABI_VERSION,
  RING_FEATURES,
  RING_KINDS,
  RING_MAGIC,
  SLOTS_OFFSET,
  SLOT_FLAGS,
  SLOT_LAYOUT,
  type FieldLayout,
  type HeaderLayout,
  type OffloadLayout,
  type RingKind,
  type SlotLayout,
} from './layout.js';
export { RingError, type RingErrorCode } from './ring-error.js';
export {
  RingView,
  type RingGeometry,
  type RingMemory,
  type RingViewOptions,
  type SlotView,
  type SlotWrite,
} from './ring-view.js';
export {
  checkCur,
  checkHead,
  checkOffload,
  checkSlot,
  geometryProblem,
  type OffloadFields,
  type SlotFields,
  type SlotLimits,
} from './validate.js';
export { VERDICTS, VERDICT_COUNT, verdictName, verdictValue, type Verdict } from './verdict.js';
