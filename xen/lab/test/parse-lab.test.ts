import { describe, expect, it } from 'vitest';
import { parseLabOutput } from './parse-lab.js';

describe('parseLabOutput: the result lines of xen/tests/*.sh', () => {
  it('reads both detail styles (drivers.sh: bare, test-xen.sh: parenthesised) and the summary', () => {
    const out = [
      '[xenlab 20:50:42] run: QEMU pid 8501',
      'LAB PASS domU/map-pattern 1100 pages (4505600 bytes) of domain 0 mapped contiguously, magic 0x56505854, 0 bad bytes\r\r',
      'LAB PASS domU-xen-peer-exit 0',
      'LAB PASS handshake (both vifs Connected in 4.1 s)',
      'LAB PASS bare',
      'LAB FAIL ping-b-to-a: 2/5 echoes',
      'LAB FAIL toolstack',
      'LAB FAIL c/grant not mapped',
      'LAB TOTAL 4 passed, 3 failed',
      '4 passed, 3 failed\r',
    ].join('\n');
    const r = parseLabOutput(out);
    expect(r.checks).toEqual([
      { ok: true, name: 'domU/map-pattern', detail: '1100 pages (4505600 bytes) of domain 0 mapped contiguously, magic 0x56505854, 0 bad bytes' },
      { ok: true, name: 'domU-xen-peer-exit', detail: '0' },
      { ok: true, name: 'handshake', detail: 'both vifs Connected in 4.1 s' },
      { ok: true, name: 'bare', detail: '' },
      { ok: false, name: 'ping-b-to-a', detail: '2/5 echoes' },
      { ok: false, name: 'toolstack', detail: '' },
      { ok: false, name: 'c/grant', detail: 'not mapped' },
    ]);
    expect(r.summary).toEqual({ passed: 4, failed: 3 });
  });

  it('has no summary when the script did not reach its end', () => {
    const r = parseLabOutput('LAB PASS boot (1.6 s)\n');
    expect(r.summary).toBeUndefined();
    expect(r.checks).toHaveLength(1);
  });

  it('ignores look-alikes that are not at the start of a line', () => {
    const r = parseLabOutput('echo LAB PASS x\n  LAB FAIL y: z\n');
    expect(r.checks).toEqual([]);
  });
});
