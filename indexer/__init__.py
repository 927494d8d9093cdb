"""housecoder.indexer: tree-sitter chunks and symbols, embedded on onnxruntime, stored in LanceDB.

Not built yet: see the open indexer issue. The embedder runtime it will use is
`housecoder.models.embedder.OnnxEmbedder`.
"""
