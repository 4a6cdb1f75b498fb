import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  collectDebianPackages,
  debianPackagesOf,
  ensureDebianPackages,
  missingFromDpkg,
  queryMissing,
} from '../lib/debian.mjs';
import { listWorkspaces, readJson } from '../lib/workspaces.mjs';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A repository tree: { 'relative/path/package.json': manifest }. */
function tree(files: Record<string, object>): string {
  const root = mkdtempSync(join(tmpdir(), 'vpio-debian-'));
  temps.push(root);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), JSON.stringify(body));
  }
  return root;
}

function manifestsOf(root: string) {
  return [
    { manifest: readJson(join(root, 'package.json')), file: 'package.json' },
    ...listWorkspaces(root).map((w) => ({ manifest: w.manifest, file: `${w.relDir}/package.json` })),
  ];
}

const hasDpkg = existsSync('/usr/bin/dpkg-query');

describe('collecting "vpio.debian" from the workspaces', () => {
  it('unions the root, every workspace and what the command needs, sorted and once each', () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*', 'examples/*'], vpio: { debian: ['git'] } },
      'packages/ring/package.json': { name: '@vpio/ring', vpio: { debian: ['clang', 'libbpf-dev'] } },
      'packages/switch/package.json': { name: '@vpio/switch', vpio: { debian: ['clang'] } },
      'packages/plain/package.json': { name: '@vpio/plain' },
      'examples/pair/package.json': { name: 'pair', vpio: { debian: ['iproute2', 'libc6:amd64'] } },
      'examples/notes/README.json': {},
    });
    expect(listWorkspaces(root).map((w) => w.relDir)).toEqual([
      'examples/pair',
      'packages/plain',
      'packages/ring',
      'packages/switch',
    ]);
    expect(collectDebianPackages(manifestsOf(root), ['build-essential', 'git'])).toEqual([
      'build-essential',
      'clang',
      'git',
      'iproute2',
      'libbpf-dev',
      'libc6:amd64',
    ]);
  });

  it('adds the benchmark-only lists for benchmarks and only for them', () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/switch/package.json': { name: '@vpio/switch', vpio: { debian: ['iproute2'], debianBench: ['dpdk-dev'] } },
    });
    expect(collectDebianPackages(manifestsOf(root))).toEqual(['iproute2']);
    expect(collectDebianPackages(manifestsOf(root), [], { bench: true })).toEqual(['dpdk-dev', 'iproute2']);
  });

  it('validates the benchmark-only list like the other', () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/x/package.json': { name: 'x', vpio: { debianBench: ['Not A Package'] } },
    });
    expect(() => collectDebianPackages(manifestsOf(root), [], { bench: true })).toThrow(/packages\/x\/package.json: "vpio.debianBench" holds/);
  });

  it('is empty when nobody declares anything and the command needs nothing', () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/a/package.json': { name: 'a', vpio: { debian: [] } },
    });
    expect(collectDebianPackages(manifestsOf(root))).toEqual([]);
  });

  it('rejects a name that is not a Debian package, naming the file', () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/a/package.json': { name: 'a', vpio: { debian: ['clang; rm -rf /'] } },
    });
    expect(() => collectDebianPackages(manifestsOf(root))).toThrow(
      'packages/a/package.json: "vpio.debian" holds "clang; rm -rf /", which is not a Debian package name',
    );
    expect(() => debianPackagesOf({ vpio: { debian: 'clang' } }, 'x/package.json')).toThrow(/must be an array/);
  });
});

describe('asking dpkg', () => {
  it('treats only "install ok installed" as installed and unknown packages as missing', () => {
    const out = 'make\tinstall ok installed\nclang\tdeinstall ok config-files\nlibc6\tinstall ok installed\n';
    expect(missingFromDpkg(['make', 'clang', 'libc6:amd64', 'nosuch'], out)).toEqual(['clang', 'nosuch']);
  });

  it.skipIf(!hasDpkg)('finds dpkg itself installed and a made-up package missing', () => {
    expect(queryMissing(['dpkg', 'vpio-no-such-package'])).toEqual(['vpio-no-such-package']);
  });

  it.skipIf(!hasDpkg)('tells a non-root user the exact apt-get command instead of installing', async () => {
    await expect(ensureDebianPackages(['dpkg', 'vpio-no-such-package'], { isRoot: false })).rejects.toThrow(
      'install them first:\n  sudo apt-get install -y vpio-no-such-package',
    );
  });
});
