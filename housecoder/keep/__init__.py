"""The keep-probability: how likely a suggestion is to be kept, from what the model said of it and where.

`signals` turns one completion (its tokens' log-probabilities, the cursor, the context it had) into numbers;
`model` maps them to `p_keep` with a small logistic model whose coefficients ship with the package
(`default.json`, fitted on benchmark tasks) and can be refitted. The completion engine hides suggestions under
`completion.min_keep`.
"""

from housecoder.keep.model import KeepModel, default_model, load_model
from housecoder.keep.signals import FEATURES, PLACE, place, signals

__all__ = ["FEATURES", "PLACE", "KeepModel", "default_model", "load_model", "place", "signals"]
