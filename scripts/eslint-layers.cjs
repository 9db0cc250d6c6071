// An ESLint rule that keeps imports pointing down the layers of layers.cjs. It resolves each
// relative specifier against the importing file, so it judges where an import lands rather than how
// the specifier is spelled, and it sees every form an import takes: `import`, `import type`,
// `export ... from`, `import('...')` in code and in types, `require()` and `import x = require()`.
const { dirname, relative, resolve } = require('node:path');
const LAYERS = require('../layers.cjs');

const ROOT = resolve(__dirname, '..');

/** The layer index of a repository path (no extension needed), or -1 when it has none. */
function layerIndex(path) {
  const bare = path.replace(/\.(d\.ts|ts|js|cjs|mjs)$/, '');
  return LAYERS.findIndex(({ paths }) =>
    paths.some((entry) =>
      entry.endsWith('/') ? `${bare}/`.startsWith(entry) : bare === entry.replace(/\.(ts|js)$/, ''),
    ),
  );
}

/** The specifier of an import-like node, when it is a string literal. */
function specifierOf(node) {
  const literal = (value) => (typeof value?.value === 'string' ? value.value : undefined);
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
    case 'ExportNamedDeclaration':
    case 'ImportExpression':
      return literal(node.source);
    case 'TSExternalModuleReference':
      return literal(node.expression);
    case 'TSImportType':
      return literal(node.source ?? node.argument?.literal);
    case 'CallExpression':
      return node.callee.type === 'Identifier' && node.callee.name === 'require'
        ? literal(node.arguments[0])
        : undefined;
    default:
      return undefined;
  }
}

/** @type {import('eslint').Rule.RuleModule} */
module.exports = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Imports point down the layers of layers.cjs (DESIGN.md), types included.',
    },
    schema: [],
    messages: {
      upward:
        '"{{target}}" is in layer "{{targetLayer}}", above "{{layer}}": layers never import upward (layers.cjs, DESIGN.md).',
      unassigned: '"{{file}}" is in no layer: add its folder to layers.cjs.',
      private:
        'The command uses only the public API: require the package ("..") rather than "{{target}}".',
    },
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    if (!file.startsWith('lib/') && !file.startsWith('bin/')) return {};
    const own = layerIndex(file);
    const cli = file.startsWith('bin/');
    const check = (node) => {
      const specifier = specifierOf(node);
      if (!specifier?.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), specifier));
      if (cli) {
        // The package root (its `main`) and the command's own files; nothing built or internal.
        const allowed = target === '' || target === 'package.json' || target.startsWith('bin/');
        if (!allowed) context.report({ node, messageId: 'private', data: { target: specifier } });
        return;
      }
      const index = layerIndex(target);
      if (index > own) {
        context.report({
          node,
          messageId: 'upward',
          data: { target: specifier, targetLayer: LAYERS[index].layer, layer: LAYERS[own].layer },
        });
      }
    };
    return {
      Program(node) {
        if (own === -1) context.report({ node, messageId: 'unassigned', data: { file } });
      },
      ImportDeclaration: check,
      ExportAllDeclaration: check,
      ExportNamedDeclaration: check,
      ImportExpression: check,
      TSExternalModuleReference: check,
      TSImportType: check,
      CallExpression: check,
    };
  },
};
