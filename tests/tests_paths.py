"""Paths of the committed test fixtures, importable from any test module."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
TINY_TOKENIZER = FIXTURES / "qwen-tokenizer-tiny"
