// Types of bench.mjs for TypeScript benchmarks (`@vpio/devkit/bench`).

export interface Column {
  key: string;
  title?: string;
  /** Default: right when every value in the column is a number. */
  align?: 'left' | 'right';
  format?: (value: unknown, row: Record<string, unknown>) => string;
}

/** One result beside its baseline, as `--json` prints it. */
export interface BenchRecord {
  case: string;
  value: number;
  unit: string;
  baseline: string | null;
  baseline_value: number | null;
  /** > 1: vpio did better than the baseline. */
  ratio: number | null;
}

export interface Baselines {
  dir: string;
  source: 'env' | 'shared' | 'vendored';
  /** "spsc.c" / "ringcopy.c" -> absolute path */
  files: Record<string, string>;
  /** false when the sources differ from the vendored SHA256SUMS (see warnings) */
  verified: boolean;
  warnings: string[];
}

export declare const VENDORED_BASELINES: string;
export declare const BASELINE_PROGRAMS: Readonly<Record<'spsc' | 'ringcopy', readonly string[]>>;

export declare function formatTable(rows: ReadonlyArray<object>, columns: ReadonlyArray<string | Column>): string;
export declare function formatNumber(n: number): string;

export declare function record(
  caseName: string,
  value: number,
  unit: string,
  baseline?: string | null,
  baselineValue?: number | null,
  options?: { lowerIsBetter?: boolean },
): BenchRecord;

export declare function parseArgs(
  argv?: readonly string[],
  defaults?: { seconds?: number },
): { json: boolean; seconds: number; rest: string[] };

export declare function findBaselines(options?: {
  env?: NodeJS.ProcessEnv;
  repoRoot?: string;
  vendoredDir?: string;
}): Baselines;

export declare function compileBaseline(
  name: 'spsc' | 'ringcopy',
  outDir: string,
  options?: { baselines?: { dir: string } },
): string;

export declare function runCommand(
  cmd: string,
  args: readonly string[],
  options?: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<string>;

export declare function parseFigures(output: string): Record<string, string | number>;

export declare function driftWarning(
  caseName: string,
  measured: number,
  recorded: number,
  options?: { tolerance?: number },
): string | null;

export declare function cpuInfo(): { model: string; cores: number; allowedCores: number };
