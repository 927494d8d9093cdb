"""The one rule for secrets, wherever text could reach a prompt: the index, open buffers, the current file (pure).

A file is secret by its name (`.env`, keys, credential stores) or by what it holds (private keys,
cloud and service tokens). Secret text is never indexed, never given to the model as context, and a
secret file gets no completion: with a remote runtime the prompt leaves the machine. The patterns
are bounded, so a scan is linear in the text.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import PurePosixPath

SECRET_NAMES = tuple(
    """
    .env .env.* *.env *.pem *.key *.p12 *.pfx *.jks *.keystore *.ppk id_rsa* id_dsa* id_ecdsa* id_ed25519*
    .netrc .npmrc .pypirc .git-credentials .htpasswd credentials credentials.json *.credentials *.token
    token.json service-account*.json *secret*.json *secrets*.yaml *secrets*.yml .dockercfg
    """.split()
)
_SECRET_SOURCES = [
    r"-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
    r"PuTTY-User-Key-File-\d",  # PuTTY private keys (.ppk)
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"(?i)aws_secret_access_key\s{0,8}[=:]\s{0,8}['\"]?[A-Za-z0-9/+=]{40}",
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{60,}\b",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",  # Slack
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
    r"\bsk-(?:proj-|live-)?[A-Za-z0-9_-]{32,}\b",  # OpenAI style secret keys
    r"\b[sr]k_live_[0-9A-Za-z]{16,}\b",  # Stripe live secret and restricted keys
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # a signed JWT
    r"(?im)\bjwt[_-]?(?:secret|signing[_-]?key)\w{0,20}['\"]?\s{0,8}[=:]\s{0,8}(?:['\"][^\s'\"]{8,}['\"]|[\w+/=-]{16,}$)",
    r"\"auths\"\s{0,8}:\s{0,8}\{[\s\S]{0,600}?\"auth\"\s{0,8}:\s{0,8}\"[A-Za-z0-9+/=]{12,}\"",  # docker config.json
]
TEXT_PATTERNS = [re.compile(source) for source in _SECRET_SOURCES]
BYTES_PATTERNS = [re.compile(source.encode()) for source in _SECRET_SOURCES]


def is_secret_name(path: str) -> bool:
    """True for a file whose name says it holds secrets (`.env`, `id_rsa`, `*.pem`, ...); `path` may have folders."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    return any(fnmatch(name, pattern) for pattern in SECRET_NAMES)


def holds_secret(text: str) -> bool:
    """True when `text` contains a private key or a token."""
    return any(pattern.search(text) for pattern in TEXT_PATTERNS)


def holds_secret_bytes(data: bytes) -> bool:
    """`holds_secret` for raw file content."""
    return any(pattern.search(data) for pattern in BYTES_PATTERNS)


def is_secret(path: str, text: str) -> bool:
    """The rule for a document: a secret name or secret content."""
    return is_secret_name(path) or holds_secret(text)
