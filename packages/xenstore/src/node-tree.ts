/**
 * The xenstore tree as a persistent (path-copying) structure: a change
 * copies the nodes from the root to the changed node, so an older root is
 * an immutable snapshot. Transactions start from such a snapshot; the main
 * store clones (shares the root, copies the per-domain usage) before each
 * request so a failing request leaves nothing behind. No permission logic
 * here: that lives in store-ops.ts.
 */
import { NODE_PERM_BYTES, NODE_RECORD_HEADER_BYTES } from './protocol.js';
import type { XsPerm } from './permissions.js';
import { parentPath, segments } from './paths.js';
import { fail } from './xenstore-error.js';

export interface XsNode {
  readonly value: Buffer;
  readonly perms: readonly XsPerm[];
  /** Children in creation order. */
  readonly children: ReadonlyMap<string, XsNode>;
  /** Sum of (child name length + 1): the `childlen` of C xenstored. */
  readonly childBytes: number;
  /** Changes whenever value, perms or the child list change. */
  readonly generation: number;
}

/** Nodes and record bytes owned by one domain. */
export interface DomainUsage {
  readonly nodes: number;
  readonly bytes: number;
}

/** A monotonic counter shared by the main tree and every transaction's tree. */
export class GenerationCounter {
  private value = 0;
  next(): number {
    return ++this.value;
  }
}

/** Size of a node's record as C xenstored accounts it (node-size quota). */
export function nodeRecordBytes(n: Pick<XsNode, 'perms' | 'value' | 'childBytes'>): number {
  return NODE_RECORD_HEADER_BYTES + n.perms.length * NODE_PERM_BYTES + n.value.length + n.childBytes;
}

export function ownerOf(n: XsNode): number {
  return n.perms[0]?.domid ?? 0;
}

const EMPTY_CHILDREN: ReadonlyMap<string, XsNode> = new Map();

export class NodeTree {
  /** When set (transactions), the generation each path had when first looked at; -1 = absent. */
  accessed: Map<string, number> | undefined;
  /** Limit on `accessed.size` (0: none); exceeding it throws ENOSPC. */
  accessLimit = 0;

  private constructor(
    private root: XsNode,
    private readonly usage: Map<number, DomainUsage>,
    readonly generations: GenerationCounter,
  ) {}

  /** `/`, `/tool` and `/tool/xenstored`, all `n0`, as C xenstored starts. */
  static initial(generations = new GenerationCounter()): NodeTree {
    const leaf = (children: ReadonlyMap<string, XsNode>): XsNode => ({
      value: Buffer.alloc(0),
      perms: [{ access: 'n', domid: 0 }],
      children,
      childBytes: [...children.keys()].reduce((s, k) => s + k.length + 1, 0),
      generation: generations.next(),
    });
    const xenstored = leaf(EMPTY_CHILDREN);
    const tool = leaf(new Map([['xenstored', xenstored]]));
    const root = leaf(new Map([['tool', tool]]));
    const tree = new NodeTree(root, new Map(), generations);
    for (const n of [root, tool, xenstored]) tree.account(n, 1);
    return tree;
  }

  /** A copy sharing every node; later changes to either side stay apart. */
  clone(): NodeTree {
    return new NodeTree(this.root, new Map(this.usage), this.generations);
  }

  usageOf(domid: number): DomainUsage {
    return this.usage.get(domid) ?? { nodes: 0, bytes: 0 };
  }

  get(path: string): XsNode | undefined {
    let node: XsNode | undefined = this.root;
    for (const seg of segments(path)) {
      node = node.children.get(seg);
      if (!node) break;
    }
    if (this.accessed && !this.accessed.has(path)) {
      if (this.accessLimit > 0 && this.accessed.size >= this.accessLimit) {
        fail('ENOSPC', `transaction touched more than ${this.accessLimit} nodes`);
      }
      this.accessed.set(path, node?.generation ?? -1);
    }
    return node;
  }

  /** Generation of `path` without recording the access. */
  generationAt(path: string): number {
    let node: XsNode | undefined = this.root;
    for (const seg of segments(path)) {
      node = node.children.get(seg);
      if (!node) return -1;
    }
    return node.generation;
  }

  /**
   * Stores `node` at `path` (its parent must exist). A new child bumps the
   * parent's generation and child list. Returns the stored node.
   */
  put(path: string, fields: { value: Buffer; perms: readonly XsPerm[] }): XsNode {
    const old = this.get(path);
    const node: XsNode = {
      value: fields.value,
      perms: fields.perms,
      children: old?.children ?? EMPTY_CHILDREN,
      childBytes: old?.childBytes ?? 0,
      generation: this.generations.next(),
    };
    if (path === '/') {
      if (old) this.account(old, -1);
      this.root = node;
      this.account(node, 1);
      return node;
    }
    this.replace(path, node);
    return node;
  }

  /** Removes `path` and its subtree; returns every removed node, parents first. */
  remove(path: string): Array<{ path: string; node: XsNode }> {
    const node = this.get(path);
    if (!node || path === '/') return [];
    const removed: Array<{ path: string; node: XsNode }> = [];
    const walk = (p: string, n: XsNode): void => {
      if (this.accessed && !this.accessed.has(p)) this.get(p);
      removed.push({ path: p, node: n });
      for (const [name, child] of n.children) walk(`${p}/${name}`, child);
    };
    walk(path, node);
    this.replace(path, undefined);
    return removed;
  }

  /** Every path in the tree with its node, parents first. */
  *walk(): Generator<{ path: string; node: XsNode }> {
    const stack: Array<{ path: string; node: XsNode }> = [{ path: '/', node: this.root }];
    while (stack.length > 0) {
      const item = stack.pop() as { path: string; node: XsNode };
      yield item;
      const kids = [...item.node.children].reverse();
      for (const [name, child] of kids) stack.push({ path: item.path === '/' ? `/${name}` : `${item.path}/${name}`, node: child });
    }
  }

  private account(n: XsNode, sign: 1 | -1): void {
    const owner = ownerOf(n);
    const u = this.usageOf(owner);
    this.usage.set(owner, { nodes: u.nodes + sign, bytes: u.bytes + sign * nodeRecordBytes(n) });
  }

  /** Path-copying replacement of the node at `path` (undefined removes it and its subtree). */
  private replace(path: string, leaf: XsNode | undefined): void {
    // Record the parent's generation before its child list changes, so a
    // transaction's own change never reads back as a conflict.
    if (this.accessed) this.get(parentPath(path));
    const segs = segments(path);
    const chain: XsNode[] = [this.root];
    for (let i = 0; i < segs.length - 1; i++) {
      const next = (chain[i] as XsNode).children.get(segs[i] as string);
      if (!next) fail('ENOENT', `parent of ${path} does not exist`);
      chain.push(next);
    }
    const name = segs[segs.length - 1] as string;
    const parent = chain[chain.length - 1] as XsNode;
    const old = parent.children.get(name);
    if (old) {
      if (leaf) this.account(old, -1);
      else for (const { node } of this.subtree(old)) this.account(node, -1);
    }
    if (leaf) this.account(leaf, 1);
    const children = new Map(parent.children);
    let newParent: XsNode;
    if (leaf) children.set(name, leaf);
    else children.delete(name);
    if (Boolean(old) === Boolean(leaf)) {
      newParent = { ...parent, children };
    } else {
      const delta = leaf ? name.length + 1 : -(name.length + 1);
      newParent = { ...parent, children, childBytes: parent.childBytes + delta, generation: this.generations.next() };
      this.account(parent, -1);
      this.account(newParent, 1);
    }
    let child = newParent;
    for (let i = chain.length - 2; i >= 0; i--) {
      const up = chain[i] as XsNode;
      const copy = new Map(up.children);
      copy.set(segs[i] as string, child);
      child = { ...up, children: copy };
    }
    this.root = child;
  }

  private *subtree(n: XsNode): Generator<{ node: XsNode }> {
    yield { node: n };
    for (const child of n.children.values()) yield* this.subtree(child);
  }
}
