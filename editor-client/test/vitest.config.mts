import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// The editor and the language client are replaced by recording stand-ins (test/stubs): the pure
// modules never import them, and test/extension.test.ts drives the glue through them.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^vscode$/, replacement: fileURLToPath(new URL('./test/stubs/vscode.ts', import.meta.url)) },
      { find: /^vscode-languageclient\/node$/, replacement: fileURLToPath(new URL('./test/stubs/languageclient.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
