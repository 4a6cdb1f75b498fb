import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { VpioError } from '@vpio/errors';
import { loadAddon, packageRoot } from '../src/index.js';

const tree = mkdtempSync(join(tmpdir(), 'vpio-addon-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));

// a package @vpio/fake with src/deep/ inside, and an unrelated package.json between
const pkg = join(tree, 'fake');
mkdirSync(join(pkg, 'src', 'deep', 'inner'), { recursive: true });
writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@vpio/fake' }));
writeFileSync(join(pkg, 'src', 'deep', 'package.json'), JSON.stringify({ name: 'something-else' }));
writeFileSync(join(pkg, 'src', 'deep', 'inner', 'package.json'), '{ not json');
const caller = pathToFileURL(join(pkg, 'src', 'deep', 'inner', 'mod.js')).href;

describe('packageRoot', () => {
  it('walks up past other and unreadable manifests to the one with the name', () => {
    expect(packageRoot('@vpio/fake', caller)).toBe(pkg);
  });

  it('accepts a plain path as well as a file URL', () => {
    expect(packageRoot('@vpio/fake', join(pkg, 'src'))).toBe(pkg);
  });

  it('throws the given code when no such package is above', () => {
    expect(() => packageRoot('@vpio/nope', caller, 'NOPE_MISSING')).toThrow(
      expect.objectContaining({ code: 'NOPE_MISSING', message: expect.stringContaining('no package.json named @vpio/nope') }),
    );
  });
});

describe('loadAddon', () => {
  it('says how to build an addon that is not there, with the loader error as cause', () => {
    let err: unknown;
    try {
      loadAddon({ packageName: '@vpio/fake', addonName: 'vpio_fake', fromUrl: caller, code: 'FAKE_ADDON_MISSING' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VpioError);
    expect((err as VpioError).code).toBe('FAKE_ADDON_MISSING');
    expect((err as VpioError).message).toContain('build it with `npm run build -w @vpio/fake`');
    expect((err as VpioError).cause).toBeInstanceOf(Error);
  });

});
