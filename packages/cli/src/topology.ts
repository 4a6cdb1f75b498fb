/**
 * The declarative platform file of `vpio up -f topology.yaml`: switch
 * settings and a list of guests with their vifs (same keys as `--vif`).
 *
 * parseTopology() is pure: text in, a checked Topology out, or a
 * TopologyError listing every problem as `file:line:column: path: expected
 * ..., got ...` (YAML syntax, unknown keys with a "did you mean", wrong
 * types, bad values, duplicate guest names and MACs). Nothing is started
 * from a file with a problem. applyTopology() starts the guests in file
 * order through an injected runner and stops at the first that fails,
 * naming it.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ArgumentError, VpioError } from '@vpio/errors';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { expectedKey } from './did-you-mean.js';
import type { DomainRow } from './protocol.js';
import { VIF_KEYS, checkVifSpec, formatVifSpec, setVifKey, type VifKey, type VifSpec, type VifSpecDraft } from './vif-spec.js';

export const TOPOLOGY_SECTIONS = ['switch', 'guests'] as const;
export const SWITCH_KEYS = ['cores', 'mode'] as const;
export const GUEST_KEYS = ['name', 'command', 'env', 'memory', 'vifs'] as const;
/** Problems reported at most (the rest are counted). */
const MAX_PROBLEMS = 50;
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = ['VPIO_DOMID', 'VPIO_CTRL_FD'];

export interface TopologyGuest {
  readonly name: string;
  /** argv: the guest binary and its arguments. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMiB: number | undefined;
  readonly vifs: readonly VifSpec[];
  /** The vifs as `--vif` text (what the control socket's `run` carries). */
  readonly vifTexts: readonly string[];
  /** Where the guest's entry starts in the file (1-based). */
  readonly line: number;
  /** Where `command[0]` is written (1-based). */
  readonly commandAt: { readonly line: number; readonly column: number };
}

export interface Topology {
  readonly file: string;
  readonly switch: { readonly cores?: readonly number[]; readonly mode?: 'event' | 'poll' };
  readonly guests: readonly TopologyGuest[];
}

export interface TopologyProblem {
  readonly line: number;
  readonly column: number;
  /** `path: expected ..., got ...` (or the YAML parser's words). */
  readonly message: string;
}

export class TopologyError extends VpioError {
  declare readonly code: 'CLI_TOPOLOGY' | 'CLI_TOPOLOGY_APPLY';
  readonly problems: readonly TopologyProblem[];

  constructor(code: 'CLI_TOPOLOGY' | 'CLI_TOPOLOGY_APPLY', message: string, problems: readonly TopologyProblem[] = [], options?: { cause?: unknown }) {
    super(code, message, options);
    this.problems = problems;
  }
}

type Yaml = Node | null | undefined;

/** What a YAML node is, for "got ..." (the value itself for scalars). */
function got(n: Yaml): string {
  if (n === null || n === undefined) return 'nothing';
  if (isMap(n)) return 'a map';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    if (n.value === null) return 'null';
    return typeof n.value === 'string' ? JSON.stringify(n.value) : String(n.value);
  }
  return 'an alias';
}

class Checker {
  readonly problems: TopologyProblem[] = [];
  #dropped = 0;

  constructor(private readonly lc: LineCounter) {}

  at(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }

  /** A problem at `node` (or at offset 0). */
  report(node: Yaml | Pair, message: string): void {
    if (this.problems.length >= MAX_PROBLEMS) {
      this.#dropped++;
      return;
    }
    const range = node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined;
    const { line, col } = this.at(range?.[0] ?? 0);
    this.problems.push({ line, column: col, message });
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** `expected what, got ...` at `node`. */
  expect(node: Yaml, path: string, what: string, at?: Yaml | Pair): void {
    this.report(node ?? at, `${path}: expected ${what}, got ${got(node)}`);
  }

  /** A map's pairs with string keys; reports unknown keys against `known`. */
  pairs(map: YAMLMap, path: string, known: readonly string[], what = 'one of the keys'): Array<[string, Yaml, Pair]> {
    const out: Array<[string, Yaml, Pair]> = [];
    for (const pair of map.items) {
      const k = pair.key as Yaml;
      if (!isScalar(k) || typeof k.value !== 'string') {
        this.report(k ?? pair, `${path}: expected string keys, got ${got(k)}`);
        continue;
      }
      if (!known.includes(k.value)) {
        this.report(k, `${path}: expected ${expectedKey(k.value, known, what)}, got ${JSON.stringify(k.value)}`);
        continue;
      }
      out.push([k.value, pair.value as Yaml, pair]);
    }
    return out;
  }
}

/** A plain scalar's text as written (`60`, `1.50`, `0x10`); a quoted one's value. Undefined for non-scalars and null. */
function text(n: Yaml, source: string): string | undefined {
  if (!isScalar(n) || n.value === null || typeof n.value === 'object') return undefined;
  if (n.type === 'PLAIN' && n.range) return source.slice(n.range[0], n.range[1]);
  return String(n.value);
}

function int(c: Checker, n: Yaml, path: string, min: number, max: number): number | undefined {
  if (isScalar(n) && typeof n.value === 'number' && Number.isInteger(n.value) && n.value >= min && n.value <= max) return n.value;
  c.expect(n, path, `an integer in [${min}, ${max}]`);
  return undefined;
}

function str(c: Checker, n: Yaml, path: string, what: string): string | undefined {
  if (isScalar(n) && typeof n.value === 'string') return n.value;
  c.expect(n, path, what);
  return undefined;
}

function checkSwitch(c: Checker, n: Yaml, out: { cores?: number[]; mode?: 'event' | 'poll' }): void {
  if (!isMap(n)) return c.expect(n, 'switch', 'a map with cores and mode');
  for (const [k, v] of c.pairs(n, 'switch', SWITCH_KEYS)) {
    if (k === 'cores') {
      const items = isSeq(v) ? (v.items as Yaml[]) : [v];
      if (isSeq(v) && items.length === 0) c.expect(v, 'switch.cores', 'a core number in [-1, 1023] or a list of them');
      const cores = items.map((x, i) => int(c, x, isSeq(v) ? `switch.cores[${i}]` : 'switch.cores', -1, 1023));
      if (cores.every((x) => x !== undefined)) out.cores = cores as number[];
    } else {
      const mode = str(c, v, 'switch.mode', 'event or poll');
      if (mode !== undefined && mode !== 'event' && mode !== 'poll') c.expect(v, 'switch.mode', 'event or poll');
      else if (mode !== undefined) out.mode = mode;
    }
  }
}

/** One vif map: each key through the `--vif` parser, then the checks between keys. */
function checkVif(c: Checker, n: Yaml, path: string, source: string): VifSpec | undefined {
  if (n === null || (isScalar(n) && n.value === null)) return {}; // `- {}` or a bare `-`: every default
  if (!isMap(n)) {
    c.expect(n, path, `a map of vif keys (${VIF_KEYS.join(', ')})`);
    return undefined;
  }
  const draft: VifSpecDraft = {};
  const nodes = new Map<string, Yaml>();
  let ok = true;
  for (const [k, v, pair] of c.pairs(n, path, VIF_KEYS)) {
    const key = k as VifKey;
    nodes.set(key, v);
    let value: string | undefined;
    if (key === 'trunk' && isSeq(v)) {
      const parts = (v.items as Yaml[]).map((x) => (isScalar(x) && typeof x.value === 'number' ? String(x.value) : undefined));
      value = parts.length > 0 && parts.every((x) => x !== undefined) ? parts.join('+') : undefined;
    } else if ((key === 'lossless' || key === 'mac-lock') && isScalar(v) && typeof v.value === 'boolean') {
      value = v.value ? '1' : '0';
    } else if (!isSeq(v) && !isMap(v)) {
      value = text(v, source);
    }
    if (value === undefined) {
      ok = false;
      const what: Record<string, string> = {
        trunk: 'a list of VLAN ids [10, 20] (or "10+20")', lossless: 'true or false', 'mac-lock': 'true or false', mac: 'a MAC like 02:00:00:00:00:01',
      };
      c.expect(v, `${path}.${key}`, what[key] ?? 'a number', pair);
      continue;
    }
    try {
      setVifKey(draft, key, value, `${path}.${key}`);
    } catch (e) {
      ok = false;
      if (!(e instanceof ArgumentError)) throw e;
      // the parser saw the scalar's text: say what the file holds (4095, not "4095")
      c.report(v, isSeq(v) ? e.message : e.message.replace(/, got [^]*$/, `, got ${got(v)}`));
    }
  }
  if (!ok) return undefined;
  try {
    return checkVifSpec(draft, (k) => `${path}.${k}`);
  } catch (e) {
    if (!(e instanceof ArgumentError)) throw e;
    const key = e.parameter.slice(path.length + 1);
    c.report(nodes.get(key) ?? n, e.message);
    return undefined;
  }
}

/** A guest as far as it checked out: `name` and `macs` (per valid vif) feed the duplicate checks even when something else is wrong. */
interface CheckedGuest {
  readonly guest: TopologyGuest;
  readonly nameNode: Yaml;
  readonly macs: ReadonlyArray<{ readonly index: number; readonly mac: string; readonly node: Yaml }>;
}

function checkGuest(c: Checker, n: Yaml, path: string, source: string): CheckedGuest | undefined {
  if (!isMap(n)) {
    c.expect(n, path, `a map with ${GUEST_KEYS.join(', ')}`);
    return undefined;
  }
  const fields = new Map(c.pairs(n, path, GUEST_KEYS).map(([k, v]) => [k, v] as const));
  let name: string | undefined;
  const nameNode = fields.get('name');
  if (!fields.has('name')) c.report(n, `${path}: expected a name: key (1..64 characters of [A-Za-z0-9_.-])`);
  else {
    name = str(c, nameNode, `${path}.name`, '1..64 characters of [A-Za-z0-9_.-]');
    if (name !== undefined && (!NAME_RE.test(name) || name === '.' || name === '..')) {
      c.expect(nameNode, `${path}.name`, '1..64 characters of [A-Za-z0-9_.-]');
      name = undefined;
    }
  }
  const command: string[] = [];
  const cmd = fields.get('command');
  if (!fields.has('command')) c.report(n, `${path}: expected a command: key (the guest binary and its arguments, e.g. [/bin/sleep, 60])`);
  else if (!isSeq(cmd) || cmd.items.length === 0) c.expect(cmd, `${path}.command`, 'a list: the guest binary and its arguments, e.g. [/bin/sleep, 60]');
  else {
    for (const [i, a] of (cmd.items as Yaml[]).entries()) {
      const t = text(a, source);
      if (t === undefined || t.includes('\0') || (i === 0 && t === '')) c.expect(a, `${path}.command[${i}]`, i === 0 ? 'the guest binary (a path)' : 'a string');
      else command.push(t);
    }
  }
  const env: Record<string, string> = {};
  const envNode = fields.get('env');
  if (fields.has('env')) {
    if (!isMap(envNode)) c.expect(envNode, `${path}.env`, 'a map of NAME: value');
    else {
      for (const pair of envNode.items) {
        const k = pair.key as Yaml;
        const kt = isScalar(k) && typeof k.value === 'string' ? k.value : undefined;
        if (kt === undefined || !ENV_RE.test(kt) || RESERVED_ENV.includes(kt)) {
          c.report(k ?? pair, `${path}.env: expected variable names like [A-Za-z_][A-Za-z0-9_]* other than ${RESERVED_ENV.join(' and ')} (vpiod sets them), got ${got(k)}`);
          continue;
        }
        const v = text(pair.value as Yaml, source);
        if (v === undefined || v.includes('\0')) c.expect(pair.value as Yaml, `${path}.env.${kt}`, 'a string', k);
        else env[kt] = v;
      }
    }
  }
  const memoryMiB = fields.has('memory') ? int(c, fields.get('memory'), `${path}.memory`, 16, 1 << 20) : undefined;
  const vifs: VifSpec[] = [];
  const macs: Array<{ index: number; mac: string; node: Yaml }> = [];
  const vifsNode = fields.get('vifs');
  if (fields.has('vifs')) {
    if (!isSeq(vifsNode)) c.expect(vifsNode, `${path}.vifs`, 'a list of vif maps (keys as --vif: mac, vlan, trunk, rate-pps, ...)');
    else {
      for (const [i, v] of (vifsNode.items as Yaml[]).entries()) {
        const spec = checkVif(c, v, `${path}.vifs[${i}]`, source);
        if (spec) vifs.push(spec);
        if (spec?.mac !== undefined) macs.push({ index: i, mac: spec.mac, node: (v as YAMLMap).get('mac', true) as Yaml });
      }
    }
  }
  const guest: TopologyGuest = Object.freeze({
    name: name ?? '', command, env, memoryMiB, vifs, vifTexts: vifs.map(formatVifSpec), line: c.at(n.range?.[0] ?? 0).line,
    commandAt: (({ line, col }) => ({ line, column: col }))(c.at((isSeq(cmd) ? (cmd.items[0] as Yaml)?.range?.[0] : undefined) ?? n.range?.[0] ?? 0)),
  });
  return { guest, nameNode: name === undefined ? undefined : nameNode, macs };
}

function invalid(file: string, list: readonly TopologyProblem[], dropped = 0): TopologyError {
  const problems = [...list].sort((a, b) => a.line - b.line || a.column - b.column);
  const n = problems.length + dropped;
  return new TopologyError(
    'CLI_TOPOLOGY',
    `${file} is not a valid topology (${n} problem${n > 1 ? 's' : ''}); nothing was started:\n` +
      problems.map((p) => `  ${file}:${p.line}:${p.column}: ${p.message}`).join('\n') + (dropped ? `\n  ... and ${dropped} more` : ''),
    problems,
  );
}

/** Checks a topology file's text. Throws TopologyError (CLI_TOPOLOGY) listing every problem as file:line:column. */
export function parseTopology(source: string, file = 'topology.yaml'): Topology {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const c = new Checker(lc);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // prettyErrors appends " at line L, column C:" and a source excerpt: keep the words
    c.problems.push({ line: pos.line, column: pos.col, message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  const sw: { cores?: number[]; mode?: 'event' | 'poll' } = {};
  const guests: TopologyGuest[] = [];
  if (doc.errors.length === 0) {
    const root = doc.contents as Yaml;
    if (root === null || (isScalar(root) && root.value === null)) {
      /* an empty file: the platform alone */
    } else if (!isMap(root)) c.expect(root, file, `a map with the sections ${TOPOLOGY_SECTIONS.join(', ')}`);
    else {
      for (const [k, v] of c.pairs(root, 'top level', TOPOLOGY_SECTIONS, 'one of the sections')) {
        if (k === 'switch') checkSwitch(c, v, sw);
        else if (!isSeq(v)) c.expect(v, 'guests', 'a list of guests (name, command, env, memory, vifs)');
        else {
          const names = new Map<string, string>();
          const macs = new Map<string, string>();
          for (const [i, g] of (v.items as Yaml[]).entries()) {
            const checked = checkGuest(c, g, `guests[${i}]`, source);
            if (!checked) continue;
            const { guest } = checked;
            if (checked.nameNode !== undefined) {
              const first = names.get(guest.name);
              if (first !== undefined) c.report(checked.nameNode, `guests[${i}].name: expected a name no other guest has, got ${JSON.stringify(guest.name)} (also ${first})`);
              else names.set(guest.name, `guests[${i}], line ${guest.line}`);
            }
            for (const m of checked.macs) {
              const where = `guests[${i}].vifs[${m.index}]`;
              const other = macs.get(m.mac);
              if (other !== undefined) c.report(m.node, `${where}.mac: expected a MAC no other vif has, got ${JSON.stringify(m.mac)} (also ${other})`);
              else macs.set(m.mac, `${where}, line ${c.at(m.node?.range?.[0] ?? 0).line}`);
            }
            guests.push(guest); // used only when the whole file has no problem
          }
        }
      }
    }
  }
  if (c.problems.length > 0) throw invalid(file, c.problems, c.dropped);
  return Object.freeze({ file, switch: Object.freeze(sw), guests: Object.freeze(guests) });
}

/**
 * Reads and checks `file`, resolves the relative paths of each guest's
 * command against the file's directory (the binary when it contains a
 * slash, arguments written ./x or ../x), and checks that each guest's
 * binary, when it is a path, is an executable file on this host (a guest whose binary is
 * missing would start and die at once). Throws TopologyError (CLI_TOPOLOGY),
 * also when the file cannot be read.
 */
export function loadTopology(file: string): Topology {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TopologyError('CLI_TOPOLOGY', `cannot read the topology ${file}: ${(e as Error).message}`, [], { cause: e });
  }
  const parsed = parseTopology(source, file);
  // Paths relative to the file: the binary when it has a slash (a bare name is looked up in PATH), and
  // any argument written ./x or ../x. Guests do not run in the caller's directory, so this is what makes
  // a topology next to its configs work from anywhere. Everything else is passed as written.
  const here = dirname(resolve(file));
  const rel = (a: string, i: number): string => (!isAbsolute(a) && (a.startsWith('./') || a.startsWith('../') || (i === 0 && a.includes('/'))) ? resolve(here, a) : a);
  const t: Topology = Object.freeze({ ...parsed, guests: Object.freeze(parsed.guests.map((g) => Object.freeze({ ...g, command: Object.freeze(g.command.map(rel)) }))) });
  const problems: TopologyProblem[] = [];
  for (const [i, g] of t.guests.entries()) {
    const bin = g.command[0]!;
    if (!bin.startsWith('/')) continue;
    let why: string | undefined;
    try {
      if (!statSync(bin).isFile()) why = 'not a file';
      else accessSync(bin, constants.X_OK);
    } catch (e) {
      why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    if (why !== undefined) problems.push({ ...g.commandAt, message: `guests[${i}].command[0]: expected an executable file on this host, got ${JSON.stringify(bin)} (${why})` });
  }
  if (problems.length > 0) throw invalid(file, problems);
  return t;
}

/**
 * Starts the guests in file order through `run` (the control socket's `run`,
 * or Platform.run in the platform's own process). The first that fails stops
 * the apply: TopologyError CLI_TOPOLOGY_APPLY names it, its line, and the
 * platform's error. `onStarted` hears of each guest as it starts. Guests started before it are the caller's to tear down.
 */
export async function applyTopology(t: Topology, run: (g: TopologyGuest) => Promise<DomainRow>, onStarted?: (d: DomainRow) => void): Promise<DomainRow[]> {
  const made: DomainRow[] = [];
  for (const g of t.guests) {
    try {
      const d = await run(g);
      made.push(d);
      onStarted?.(d);
    } catch (e) {
      const code = e instanceof VpioError ? `${e.code}: ` : '';
      throw new TopologyError('CLI_TOPOLOGY_APPLY', `guest "${g.name}" (${t.file}:${g.line}) did not start: ${code}${(e as Error).message}`, [], { cause: e });
    }
  }
  return made;
}

/** `vpio up -f FILE --check`'s summary of a valid file. */
export function describeTopology(t: Topology): string {
  const vifs = t.guests.reduce((n, g) => n + g.vifs.length, 0);
  const sw = [t.switch.cores && `cores ${t.switch.cores.join(',')}`, t.switch.mode && `${t.switch.mode} mode`].filter(Boolean).join(', ');
  return `${t.file}: valid: ${t.guests.length} guest${t.guests.length === 1 ? '' : 's'} (${t.guests.map((g) => g.name).join(', ') || 'none'}), ${vifs} vif${vifs === 1 ? '' : 's'}${sw ? `, switch ${sw}` : ''}`;
}
