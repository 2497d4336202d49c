// ESLint 10 flat config. Not type-aware on purpose: `npm run typecheck` already runs the compiler,
// and a lint that stays fast gets run. The rule that matters most here is `verity/boundaries`.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import verity from './scripts/lint-boundaries.js';

export default defineConfig([
  globalIgnores(['**/node_modules/', '**/.verity/', '**/.tmp*/', '**/dist/', '**/coverage/', 'apps/*/public/', 'infra/cdk.out/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs}'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', URLSearchParams: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        fetch: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', crypto: 'readonly',
      },
    },
    plugins: { verity },
    rules: {
      'verity/boundaries': 'error',
      // `any` appears at deliberate seams (heterogeneous module lists, framework generics); strict
      // TypeScript checks the rest, so a blanket ban would only breed casts.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // A `let` read by a closure before its single assignment (shutdown hooks registered early) is fine.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
]);
