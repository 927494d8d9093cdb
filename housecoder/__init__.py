"""housecoder: a private, repository-aware code completion backend.

The top-level package holds what every part shares: the CLI, the typed
configuration, the model store, the completion engine and its stages (trigger,
context, prompt, inference, post-processing), evaluation and the feedback store.
The parts live in `housecoder.indexer`, `housecoder.server` and
`housecoder.training` (top-level folders mapped into the namespace by setup.py;
docs/guide/development.md has the layout, checked by tests/test_docs.py).
Importing this package is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
