/**
 * Transactions with snapshot semantics: a transaction works on a snapshot
 * of the store taken at TRANSACTION_START, recording the generation of
 * every node it looks at. Commit succeeds only if none of those nodes
 * changed in the main store since (else EAGAIN, as C xenstored 4.17's
 * generation check); the transaction's operations are then replayed on the
 * main store, so their watch events fire at commit and never on abort.
 */
import { NodeTree } from './node-tree.js';
import type { Change } from './store-ops.js';

/** One recorded operation; replayed against the main store at commit. */
export type TxOp = (tree: NodeTree) => Change[];

export class Transaction {
  private tree: NodeTree;
  private readonly ops: TxOp[] = [];
  private readonly accessed = new Map<string, number>();

  constructor(main: NodeTree, accessLimit: number) {
    this.tree = main.clone();
    this.tree.accessed = this.accessed;
    this.tree.accessLimit = accessLimit;
  }

  /** The transaction's private view (snapshot plus its own writes). */
  get view(): NodeTree {
    return this.tree;
  }

  /** Nodes looked at so far. */
  get touchedNodes(): number {
    return this.accessed.size;
  }

  /** Runs a read inside the transaction (records what it looked at). */
  read<T>(fn: (tree: NodeTree) => T): T {
    return fn(this.tree);
  }

  /** Runs a change inside the transaction; a failing change leaves the view unchanged. */
  apply(op: TxOp): Change[] {
    const next = this.tree.clone();
    next.accessed = this.accessed;
    next.accessLimit = this.tree.accessLimit;
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
