/**
 * The core's C parser test (TAP, ASan + UBSan; each line a vitest case) and
 * the freestanding check: the core plus the xenstore client core it calls,
 * built -ffreestanding -nostdinc into one relocatable object, needs nothing
 * from outside but memcpy/memset.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, definedFunctions, runTapProgram, undefinedSymbols } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const freestandingObj = join(root, 'build', 'test', 'nf_core.freestanding.o');

defineTapSuite('test-nf-parse (C parsers, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-nf-parse'), { cwd: root }), { minCases: 6 });
defineTapSuite('test-nf-zc (zero-copy RX/TX, buffer swaps, sleep hooks; ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-nf-zc'), { cwd: root }), { minCases: 7 });

describe('freestanding build of the netfront core', () => {
  it('needs nothing from outside beyond memcpy/memset', () => {
    expect(existsSync(freestandingObj), `${freestandingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const allowed = new Set(['memcpy', 'memset']);
    expect(undefinedSymbols(freestandingObj).filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('defines the whole public API of vpio/netfront.h', () => {
    const defined = definedFunctions(freestandingObj);
    for (const fn of [
      'nf_connect', 'nf_disconnect', 'nf_mac', 'nf_mtu', 'nf_tx_slots', 'nf_rx_slots', 'nf_buf_size', 'nf_tx_burst',
      'nf_tx_kick', 'nf_rx_burst', 'nf_tx_space', 'nf_rx_pending', 'nf_rx_wait', 'nf_tx_wait', 'nf_stats',
      'nf_parse_u32', 'nf_parse_state', 'nf_parse_slots', 'nf_parse_ref_count', 'nf_parse_gref', 'nf_parse_port',
      'nf_parse_mtu', 'nf_parse_mac', 'nf_parse_queue_count', 'nf_queue_count', 'nf_queue', 'nf_backend_check', 'nf_backend_path',
      'nf_zc_rx_avail', 'nf_zc_tx_avail', 'nf_zc_rx_peek', 'nf_zc_rx_release', 'nf_zc_tx_reserve', 'nf_zc_tx_commit',
      'nf_zc_swap_forward', 'nf_zc_tx_swap', 'nf_zc_arm', 'nf_zc_disarm', 'nf_zc_consume', 'nf_zc_tx_port',
      'nf_zc_rx_port', 'nf_zc_mode',
    ]) {
      expect(defined).toContain(fn);
    }
  });
});
