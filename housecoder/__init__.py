"""housecoder: a private, repository-aware code completion backend.

The top-level package holds what every part shares: the CLI, the typed
configuration, the model store and the prompt format. The parts live in
`housecoder.indexer`, `housecoder.server` and `housecoder.training`.
Importing this package is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"
