"""housecoder: a private, repository-aware code completion backend.

The top-level package holds what every part shares: the CLI (`cli`), the typed
configuration, paths and errors, the model store and the adapter registry
(`models`), the completion engine (`completion`) and its stages (the trigger,
`context`, `prompt`, `inference`, `postprocess`), tree-sitter parsing
(`syntax`), scoring completions on tasks (`evaluation`), the benchmarks on top
of it (`benchmarks`) and the feedback store (`feedback`). The parts live in
`housecoder.indexer`, `housecoder.server` and `housecoder.training` (top-level
folders mapped into the namespace by setup.py; docs/guide/development.md has
the layout, checked by tests/test_docs.py).
Importing this package is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
