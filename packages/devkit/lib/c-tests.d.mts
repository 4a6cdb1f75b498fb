export interface TapCase {
  readonly ok: boolean;
  readonly n: number;
  readonly name: string;
  readonly diagnostics: string[];
}

export interface TapRun {
  readonly cases: TapCase[];
  readonly plan: number | undefined;
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | undefined;
}

export declare const SANITIZER_ENV: Readonly<Record<'ASAN_OPTIONS' | 'UBSAN_OPTIONS', string>>;

export declare function parseTap(stdout: string): { cases: TapCase[]; plan: number | undefined };

export declare function runTapProgram(
  path: string,
  options?: { args?: string[]; cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<TapRun>;

export declare function defineTapSuite(title: string, run: TapRun, options?: { minCases?: number }): void;

export declare function undefinedSymbols(objectPath: string): string[];

export declare function definedFunctions(objectPath: string): string[];
