"""housecoder.indexer: a repository's chunks and symbols, embedded on onnxruntime, stored in LanceDB.

`walker`/`sources` choose the files (gitignore, secrets, binaries, size), `parsing` and `chunker` cut them
on their syntax (`housecoder.syntax`), `indexer` embeds and writes them incrementally into `store`
(LanceDB: chunks with vectors and a full-text index, symbols), `retrieval` answers the completion engine's
context queries, and `service` opens all of it from settings for the CLI, the server and training.
"""
