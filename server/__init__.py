"""housecoder.server: the LSP server (pygls) that serves inline completions.

Not built yet: see the open server issue. It will use `housecoder.indexer`
and the shared prompt, model and inference code, never `housecoder.training`.
"""
