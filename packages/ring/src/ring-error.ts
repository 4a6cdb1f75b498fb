import { VpioError } from '@vpio/errors';

/**
 * Why a ring could not be opened or set up:
 * - RING_OUT_OF_BOUNDS  the memory is smaller than the header or the ring (or the pool) needs
 * - RING_MISALIGNED     the ring does not start on an 8-byte boundary of its ArrayBuffer
 * - RING_BAD_MAGIC      no vpio ring there (or not set up yet: the magic is written last)
 * - RING_ABI_MISMATCH   the ring speaks another ABI version
 * - RING_BAD_GEOMETRY   num_slots / buf_size / nr_bufs / features / first buffer not acceptable
 * - RING_BAD_KIND       hdr.kind is not TX or RX, or not the kind the caller expected
 */
export type RingErrorCode =
  | 'RING_OUT_OF_BOUNDS'
  | 'RING_MISALIGNED'
  | 'RING_BAD_MAGIC'
  | 'RING_ABI_MISMATCH'
  | 'RING_BAD_GEOMETRY'
  | 'RING_BAD_KIND';

/** A ring that cannot be used as it is; `code` says why. */
export class RingError extends VpioError {
  declare readonly code: RingErrorCode;

  constructor(code: RingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
