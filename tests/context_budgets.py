"""Context time budgets no loaded test machine runs out of, for tests about what the sources find, not how fast."""

from typing import Any

from housecoder.config import ContextTuning

BUDGETS = {name: 60_000 for name in ContextTuning.model_fields if name.endswith("_ms")}
ROOMY: dict[str, Any] = {"tuning": BUDGETS}  # a [context] table


def roomy(**tuning: Any) -> dict[str, Any]:
    """A [context] table with the roomy budgets and these tuning knobs."""
    return {"tuning": BUDGETS | tuning}
