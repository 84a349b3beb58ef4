// ESLint (flat config). Syntax-only rules, no type information: the lint must stay fast.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Only constant shell text may be `raw`: values go through `script(text, ...args)` or `cmd(...)`,
// which quote them (src/shell/command.ts). The type of `raw` refuses interpolation; this catches
// casts around it too.
const rawOnlyConstant = [
  {
    selector: "TaggedTemplateExpression[tag.name='raw'][quasi.expressions.length>0]",
    message: 'raw`...` takes constant text only: pass values with script(text, ...args) or cmd(...).',
  },
  {
    selector: "CallExpression[callee.name='raw']",
    message: 'raw is a tagged template, raw`constant text`: pass values with script(text, ...args) or cmd(...).',
  },
];

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', '.testbed/', 'examples/', 'test/golden/', 'test/fixtures/'],
  },
  tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x skips `.ts` files when it follows imports (and finds no cycle).
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // `.js` specifiers in the TypeScript sources resolve to their `.ts` files.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      // `const { key: _, ...rest } = o` is how a key is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // Lowered step by step towards the ~50 lines of the style rule.
      'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true }],
      'no-restricted-syntax': ['error', ...rawOnlyConstant],
    },
  },
);
