/**
 * Domain ids as Xen hands them out: 1..32751 (0 is dom0, 32752 and up are
 * DOMID_FIRST_RESERVED and the special ids). Allocation rotates: the next
 * id is the lowest free one above the last allocated, wrapping to 1 after
 * the top, so an id that was just freed is not handed out again until the
 * counter comes round (stale references to a dead domain do not silently
 * reach its successor). A live id is never handed out. Pure, no I/O.
 */
import { VpioError, expectInteger } from '@vpio/errors';

export const DOMID_MIN = 1;
export const DOMID_MAX = 32751;

export class DomidAllocator {
  private readonly live = new Set<number>();
  private next: number;

  constructor(private readonly first: number = DOMID_MIN, private readonly last: number = DOMID_MAX) {
    expectInteger('first', first, DOMID_MIN, DOMID_MAX);
    expectInteger('last', last, first, DOMID_MAX);
    this.next = first;
  }

  /** Number of live ids. */
  get size(): number {
    return this.live.size;
  }

  has(domid: number): boolean {
    return this.live.has(domid);
  }

  /** Returns a free id; throws DOMID_EXHAUSTED when every id is live. */
  allocate(): number {
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const id = this.first + ((this.next - this.first + i) % span);
      if (!this.live.has(id)) {
        this.live.add(id);
        this.next = id === this.last ? this.first : id + 1;
        return id;
      }
    }
    throw new VpioError('DOMID_EXHAUSTED', `all ${span} domain ids (${this.first}..${this.last}) are in use`);
  }

  /** Frees a live id (no-op for an id that is not live). */
  free(domid: number): void {
    this.live.delete(domid);
  }
}
