// One flat config for the whole repository. Each workspace's `lint` script
// runs `eslint .` from its own folder and finds this file by walking up;
// `npm test` runs it once over the whole tree.
//
// Rules are the non-type-checked recommended sets (fast: no TypeScript
// program is built); `tsc`/tsup catch type errors.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals for plain JavaScript files. TypeScript files get them from
// @types/node (typescript-eslint turns `no-undef` off there).
const nodeGlobals = Object.fromEntries(
  [
    'AbortController', 'AbortSignal', 'Blob', 'Buffer', 'BroadcastChannel',
    'clearImmediate', 'clearInterval', 'clearTimeout', 'console', 'crypto',
    'DOMException', 'Event', 'EventTarget', 'fetch', 'FormData', 'global',
    'globalThis', 'Headers', 'MessageChannel', 'MessagePort', 'performance',
    'process', 'queueMicrotask', 'Request', 'Response', 'setImmediate',
    'setInterval', 'setTimeout', 'structuredClone', 'TextDecoder',
    'TextEncoder', 'URL', 'URLSearchParams', 'WebAssembly',
  ].map((name) => [name, 'readonly']),
);
const commonjsGlobals = {
  require: 'readonly', module: 'writable', exports: 'writable',
  __dirname: 'readonly', __filename: 'readonly',
};

export default defineConfig(
  globalIgnores([
    '**/dist/**',
    '**/build/**',
    '**/node_modules/**',
    '**/.turbo/**',
    '**/.test-results/**',
    '**/coverage/**',
    '**/*.generated.ts',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonjsGlobals } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Public code: no `any` (STYLE.md §4).
    files: ['**/src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // Tests feed hostile, ill-typed values to public boundaries on purpose.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
