"""Indexer errors, each a one-line message for the user.

HousecoderError
└── IndexerError
    ├── NotADirectory       the path to index is missing or not a directory
    ├── IndexNotFound       no index yet for this repository
    ├── IncompatibleIndex   written by another index format: re-index with --full
    └── IndexBusy           another run is writing this index
"""

from __future__ import annotations

from housecoder.errors import HousecoderError


class IndexerError(HousecoderError):
    """Indexing or searching failed."""


class NotADirectory(IndexerError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: not a directory")


class IndexNotFound(IndexerError):
    def __init__(self, root: str) -> None:
        super().__init__(f"no index for {root} yet; run: housecoder index {root}")


class IndexBusy(IndexerError):
    def __init__(self, where: str) -> None:
        super().__init__(f"another housecoder run is writing the index at {where}; try again when it is done")


class IncompatibleIndex(IndexerError):
    def __init__(self, where: str, found: object, expected: int) -> None:
        super().__init__(
            f"the index at {where} has format {found}, this housecoder reads format {expected}; "
            "rebuild it with: housecoder index --full"
        )
