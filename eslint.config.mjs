import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

/**
 * The layers of DESIGN.md, lowest first: a module may import its own layer and those below it,
 * never one above (the store knows nothing of functions, core never imports an adapter).
 */
const LAYERS = [
  ['errors', 'model'],
  ['store'],
  ['cache', 'metrics', 'events', 'clients'],
  ['router'],
  ['delivery', 'journal', 'intake'],
  ['sinks'],
  ['config', 'options'],
  ['sources'],
  ['gateway'],
  ['http'],
  ['adapters'],
  ['testing'],
];

/** An ESLint block per layer forbidding imports from every layer above it. */
function layerRules() {
  return LAYERS.slice(0, -1).map((layer, index) => {
    const above = LAYERS.slice(index + 1).flat();
    const files = layer.flatMap((name) => [`lib/${name}.ts`, `lib/${name}/**/*.ts`]);
    return {
      files,
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: above.map((name) => ({
              group: [`**/${name}`, `**/${name}/**`, `./${name}`, `./${name}/**`],
              message: `"${name}" is a higher layer (DESIGN.md): layers never import upward.`,
            })),
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/', 'docs/', 'coverage/', 'bench/results/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: globals.node,
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
