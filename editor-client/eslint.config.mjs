// Lint: typescript-eslint's type-checked rules; the pure modules under src/core may not import the editor.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', '*.mts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: 'error',
      curly: 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'src/core is pure: pass what it needs in (it is unit-tested without an editor).' },
          { name: 'vscode-languageclient', message: 'src/core is pure.' },
          { name: 'vscode-languageclient/node', message: 'src/core is pure.' },
        ],
      }],
    },
  },
  { files: ['*.mjs', '*.mts'], ...tseslint.configs.disableTypeChecked },
  // The real-editor driver (tests/e2e/test_vscode.py): plain JavaScript; its page functions run in the browser.
  {
    files: ['e2e/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node, ...globals.browser },
    },
  },
);
