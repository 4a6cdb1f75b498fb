/**
 * Transactions as C xenstored 4.17 runs them (xenstored_transaction.c):
 * a node the transaction has not looked at yet is read from the store as
 * it is now, not as it was at TRANSACTION_START; from its first access on
 * the transaction keeps its own copy, recording the generation the node
 * had then. Commit succeeds only if none of those nodes changed in the
 * store since (else EAGAIN); the transaction's operations are then
 * replayed on the store, and its watch events fire at commit, never on
 * abort.
 *
 * How: the view is the current store with the transaction's operations
 * replayed on it, rebuilt whenever the store changed. While no node the
 * transaction looked at has changed, replaying gives those nodes exactly
 * the copies C keeps (an operation only depends on nodes it looks at),
 * and every other node is the store's current one. Once one has changed
 * the commit can only fail, and the view stays as it was (so the
 * transaction keeps seeing its own copies, as in C); only nodes first
 * looked at after that are then older than the store's.
 */
import { NodeTree } from './node-tree.js';
import type { Change } from './store-ops.js';

/** One recorded operation; replayed against the main store at commit. */
export type TxOp = (tree: NodeTree) => Change[];

export class Transaction {
  private tree: NodeTree;
  /** The store `tree` was built from. */
  private base: NodeTree;
  /** A node the transaction looked at changed in the store: the commit will fail. */
  private lost = false;
  private readonly ops: TxOp[] = [];
  /** Path → generation at first access (-1: absent), in order of first access. */
  private readonly accessed = new Map<string, number>();

  constructor(
    main: NodeTree,
    private readonly accessLimit: number,
  ) {
    this.base = main;
    this.tree = this.track(main.clone());
  }

  private track(tree: NodeTree): NodeTree {
    tree.accessed = this.accessed;
    tree.accessLimit = this.accessLimit;
    return tree;
  }

  /** The transaction's view of `main` (the store now): rebuilt when the store changed. */
  viewOf(main: NodeTree): NodeTree {
    if (main === this.base || this.lost) return this.tree;
    if (this.conflictsWith(main)) {
      this.lost = true;
      return this.tree;
    }
    const next = main.clone();
    try {
      for (const op of this.ops) op(next);
    } catch {
      // A quota that depends on the rest of the store: keep the old view,
      // the commit replays (and fails) the same way.
      this.lost = true;
      return this.tree;
    }
    this.base = main;
    this.tree = this.track(next);
    return this.tree;
  }

  /** Nodes looked at so far. */
  get touchedNodes(): number {
    return this.accessed.size;
  }

  /** Paths in the order the transaction first looked at them (C's accessed list). */
  accessOrder(): string[] {
    return [...this.accessed.keys()];
  }

  /** Runs a change on the view of `main`; a failing change leaves the view unchanged. */
  apply(main: NodeTree, op: TxOp): Change[] {
    const next = this.track(this.viewOf(main).clone());
    const changes = op(next);
    this.tree = next;
    this.ops.push(op);
    return changes;
  }

  /** True when a node this transaction looked at has changed in `main`. */
  conflictsWith(main: NodeTree): boolean {
    for (const [path, generation] of this.accessed) {
      if (main.generationAt(path) !== generation) return true;
    }
    return false;
  }

  /** Replays every change on a clone of `main`; the caller installs the result. */
  replay(main: NodeTree): { tree: NodeTree; changes: Change[] } {
    const tree = main.clone();
    const changes: Change[] = [];
    for (const op of this.ops) changes.push(...op(tree));
    return { tree, changes };
  }
}
