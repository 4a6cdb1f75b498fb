/**
 * The lab scripts' result lines, as xen/tests/*.sh print them on stdout:
 * "LAB PASS name", "LAB PASS name (detail)", "LAB PASS name detail",
 * "LAB FAIL name: why", "LAB FAIL name why", and a closing
 * "N passed, N failed". The console is a serial line, so lines may end in
 * CR CR LF.
 */
export interface Check {
  readonly ok: boolean;
  readonly name: string;
  readonly detail: string;
}

export interface LabSummary {
  readonly passed: number;
  readonly failed: number;
}

export interface LabOutput {
  readonly checks: readonly Check[];
  /** The last "N passed, N failed" line, if any. */
  readonly summary?: LabSummary;
}

/** A detail wrapped in one pair of parentheses loses them. */
function detailOf(d: string | undefined): string {
  return (d ?? '').replace(/^\((.*)\)$/, '$1');
}

export function parseLabOutput(stdout: string): LabOutput {
  const checks: Check[] = [];
  let summary: LabSummary | undefined;
  for (const line of stdout.split('\n').map((l) => l.replace(/\r+$/, ''))) {
    const pass = /^LAB PASS (\S+)(?: (.*))?$/.exec(line);
    const fail = /^LAB FAIL (\S+?):?(?: (.*))?$/.exec(line);
    const sum = /^(\d+) passed, (\d+) failed$/.exec(line);
    if (pass) checks.push({ ok: true, name: pass[1]!, detail: detailOf(pass[2]) });
    else if (fail) checks.push({ ok: false, name: fail[1]!, detail: detailOf(fail[2]) });
    else if (sum) summary = { passed: Number(sum[1]), failed: Number(sum[2]) };
  }
  return summary ? { checks, summary } : { checks };
}
