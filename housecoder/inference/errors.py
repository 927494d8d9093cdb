"""Errors of the inference runtimes that callers handle (model loading errors live in housecoder.models.errors).

HousecoderError
└── CannotHeal    token healing found no token to continue the typed text; prompt without healing
"""

from __future__ import annotations

from housecoder.errors import HousecoderError


class CannotHeal(HousecoderError):
    """No token of the vocabulary can continue the dropped text (the caller prompts without healing)."""
