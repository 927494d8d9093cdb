"""housecoder.server: the language server (pygls) that serves inline completions over LSP.

`app` holds the protocol handlers, `session` the model, indexes and engines,
`documents` which buffers may be used for what. It uses `housecoder.indexer`
and the shared completion code, never `housecoder.training`.
"""
