"""Repository context for a completion: which snippets of other files go in front of the current one.

`gather` runs the sources (the current file's parts the prompt leaves out,
look-alike windows of the repository, definitions of identifiers near the
cursor, hybrid retrieval, open documents), each under its own time budget; `assemble` merges
their results best-first, deduplicated, within a token budget. Shared by the
server, `housecoder complete`, the benchmark and the training job.
"""

from housecoder.context.assemble import assemble
from housecoder.context.gather import (
    ContextPlan,
    ContextRequest,
    ContextResult,
    OpenDocument,
    Retriever,
    gather,
    plan,
)
from housecoder.context.rest_of_file import Part, hidden_parts
from housecoder.context.snippets import ContextSnippet

__all__ = [
    "ContextPlan",
    "ContextRequest",
    "ContextResult",
    "ContextSnippet",
    "OpenDocument",
    "Part",
    "Retriever",
    "assemble",
    "gather",
    "hidden_parts",
    "plan",
]
