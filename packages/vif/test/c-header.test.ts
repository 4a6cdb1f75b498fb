/**
 * One source of truth: include/vpio/vif_proto.h is generated from
 * protocol.ts. The file in the tree must be the generator's output, and a
 * C program compiled against it must see exactly the TypeScript values.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { C_HEADER_PATH, cMacros, cName, renderVifProtoHeader } from '../src/c-header.js';
import { VIF_KEYS, XENBUS_STATES } from '../src/protocol.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'vif-proto-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('include/vpio/vif_proto.h', () => {
  it('is exactly what the generator renders from protocol.ts', () => {
    expect(readFileSync(join(root, C_HEADER_PATH), 'utf8')).toBe(renderVifProtoHeader());
  });

  it('gives C the same strings and numbers as TypeScript', () => {
    const exe = join(tmp, 'vif-proto-dump');
    execFileSync('gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-I', join(root, 'include'), '-o', exe, join(root, 'test/c/vif-proto-dump.c')]);
    const fromC = new Map(execFileSync(exe, { encoding: 'utf8' }).trim().split('\n').map((l) => {
      const at = l.indexOf('=');
      return [l.slice(0, at), l.slice(at + 1)] as const;
    }));
    const fromTs = cMacros();
    expect(fromC.size).toBe(fromTs.length);
    for (const m of fromTs) expect([m.name, fromC.get(m.name)]).toEqual([m.name, String(m.value)]);
  });

  it('names every state and key the way C code spells them', () => {
    const names = new Set(cMacros().map((m) => m.name));
    expect(names.has('VIF_STATE_INIT_WAIT')).toBe(true);
    expect(names.has('VIF_KEY_EVENT_CHANNEL_TX')).toBe(true);
    expect(names.has('VIF_KEY_TX_RING_REF_PREFIX')).toBe(true);
    expect(cName('backendId')).toBe('BACKEND_ID');
    expect(Object.keys(XENBUS_STATES)).toHaveLength(9);
    expect(new Set(Object.values(VIF_KEYS)).size).toBe(Object.keys(VIF_KEYS).length);
  });
});
