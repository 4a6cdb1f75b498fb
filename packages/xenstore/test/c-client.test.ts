/**
 * The C client (include/vpio/xs.h, csrc/xs_client.c) against the real
 * daemon, over both transports. build/test/xs-client-test (the fd
 * transport) and build/test/xs-ring-test (the xenbus ring transport, a
 * relay thread in the program playing Xen's side of the page against the
 * daemon) are built with ASan + UBSan by `make test-bins`, which the
 * package's test script runs first, and print TAP; each "ok N - name" line
 * becomes its own vitest case, so every C case is counted, and a "not ok",
 * a missing plan, a non-zero exit or a sanitizer report fails.
 *
 * Unlike packages/ring's c-programs.test.ts the program cannot run with
 * execFileSync: the daemon it talks to lives in this process's event loop.
 * So the module starts an XenstoreDaemon in a temp dir and runs the programs
 * asynchronously at load (top-level await), one after the other, before the
 * cases are declared.
 *
 * Also: the client core and the ring transport build freestanding and need
 * nothing but memcpy (and memset, which GCC may emit) from outside.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, definedFunctions, runTapProgram, undefinedSymbols } from '@vpio/devkit/c-tests';
import { startDaemon } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const program = join(root, 'build', 'test', 'xs-client-test');
const ringProgram = join(root, 'build', 'test', 'xs-ring-test');
const freestandingObj = join(root, 'build', 'test', 'xs_client.freestanding.o');
const freestandingRingObj = join(root, 'build', 'test', 'xs_transport_ring.freestanding.o');

const fx = await startDaemon();
const [tap, ringTap] = await (async () => {
  const env = { XENSTORED_PATH: fx.path };
  const fdRun = await runTapProgram(program, { cwd: root, env });
  const ringRun = await runTapProgram(ringProgram, { cwd: root, env });
  return [fdRun, ringRun] as const;
})().finally(() => fx.close());

defineTapSuite('xs-client-test (C client vs. vpio-xenstored, ASan + UBSan)', tap, { minCases: 25 });
defineTapSuite('xs-ring-test (ring transport; C client over a relayed ring vs. vpio-xenstored, ASan + UBSan)', ringTap, {
  minCases: 23,
});

describe('freestanding build of the C client core', () => {
  it('needs nothing from outside beyond memcpy/memset', () => {
    expect(existsSync(freestandingObj), `${freestandingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const allowed = new Set(['memcpy', 'memset']);
    expect(undefinedSymbols(freestandingObj).filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('defines the whole public API of vpio/xs.h', () => {
    const defined = definedFunctions(freestandingObj);
    for (const fn of [
      'xs_open', 'xs_close', 'xs_read', 'xs_write', 'xs_mkdir', 'xs_rm', 'xs_directory', 'xs_dir_next',
      'xs_transaction_start', 'xs_transaction_end', 'xs_watch', 'xs_unwatch', 'xs_wait_event',
      'xs_pending_events', 'xs_get_domain_path', 'xs_request', 'xs_errno_from_name', 'xs_errno_name',
    ]) {
      expect(defined).toContain(fn);
    }
  });
});

describe('freestanding build of the ring transport', () => {
  it('needs nothing from outside beyond memcpy/memset', () => {
    expect(existsSync(freestandingRingObj), `${freestandingRingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const allowed = new Set(['memcpy', 'memset']);
    expect(undefinedSymbols(freestandingRingObj).filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('defines xs_ring_transport_init and nothing else global', () => {
    expect(definedFunctions(freestandingRingObj)).toEqual(['xs_ring_transport_init']);
  });
});
