"""Entry point for `python -m housecoder`."""

from housecoder.cli import main

main()
