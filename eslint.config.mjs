import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { createRequire } from 'node:module';

// The layer rule: the order lives in layers.cjs, the rule in scripts/eslint-layers.cjs.
const layers = createRequire(import.meta.url)('./scripts/eslint-layers.cjs');

export default tseslint.config(
  {
    // The official SDK's tests, vendored as they are: __tests__/sdk-suite/README.md.
    ignores: [
      'dist/',
      'docs/',
      'coverage/',
      'bench/results/',
      'node_modules/',
      '__tests__/sdk-suite/vendor/**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lib/**/*.ts', 'bin/**/*.js'],
    plugins: { local: { rules: { layers } } },
    rules: { 'local/layers': 'error' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: globals.node,
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
