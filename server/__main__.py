"""`python -m housecoder.server`: the language server over stdio."""

from housecoder.server.main import main

main()
