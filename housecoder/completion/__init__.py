"""The completion pipeline shared by the server, `housecoder complete` and the benchmark.

trigger -> context -> prompt -> model -> post-processing, with a cache in front
of the model; `CompletionEngine.complete` runs it for one cursor and reports
what it used and how long each stage took.
"""

from housecoder.completion.cache import CompletionCache
from housecoder.completion.engine import CompletionEngine, CompletionInput, CompletionOutput

__all__ = ["CompletionCache", "CompletionEngine", "CompletionInput", "CompletionOutput"]
