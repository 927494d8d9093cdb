"""Context time budgets no loaded test machine runs out of, for tests about what the sources find, not how fast."""

from housecoder.config import ContextConfig

ROOMY = {name: 60_000 for name in ContextConfig.model_fields if name.endswith("_ms")}
