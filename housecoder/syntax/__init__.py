"""housecoder.syntax: tree-sitter parsing, the languages and their grammar wheels, tag queries, and the
span rules that decide which lines and bodies are worth completing.

A neutral layer: the completion engine (trigger decisions), the indexer (chunks and symbols), training
(FIM spans) and the benchmarks (task making) all build on it, and it imports none of them.
"""
