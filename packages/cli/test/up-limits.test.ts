/**
 * `vpio up --max-domains / --max-grants` (objective: the limits reach vpiod,
 * which sizes its descriptor limit from them and refuses clearly when the
 * host's hard limit cannot fit them; bad values are refused before anything
 * starts).
 */
import { describe, expect, it } from 'vitest';
import { tempBase, vpio } from './helpers.js';

describe('vpio up limits', () => {
  it('refuses out-of-range values before starting anything', async () => {
    for (const [flag, value] of [['--max-domains', '0'], ['--max-domains', '40000'], ['--max-grants', '2']] as const) {
      const t = tempBase();
      const r = await vpio(['up', '--dir', t.dir, flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag}: expected an integer`);
      t.cleanup();
    }
  });

  it('a platform for more domains than the descriptor limit allows does not start, and says why', async () => {
    const t = tempBase();
    const r = await vpio(['up', '--dir', t.dir, '--cores=-1', '--max-domains', '30000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FD_LIMIT: vpiod needs \d+ descriptors for --max-domains 30000 but RLIMIT_NOFILE allows \d+/);
    t.cleanup();
  });

  it('both limits reach a platform that starts and answers', async () => {
    const t = tempBase();
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1', '--max-domains', '20', '--max-grants', '16']);
    expect(up.code, up.stderr).toBe(0);
    const ls = await vpio(['ls', '--dir', t.dir, '--json']);
    expect(JSON.parse(ls.stdout)).toEqual({ domains: [] });
    expect((await vpio(['down', '--dir', t.dir])).code).toBe(0);
    t.cleanup();
  });
});
