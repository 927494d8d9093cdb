"""The one rule for secrets, wherever text leaves the buffer: the index, prompts (open buffers, the current file),
the feedback store and the tasks made from it (pure).

A file is secret by its name (`.env`, keys, credential stores) or by what it holds. What it holds is judged by
three sets of rules: the token rules of detect-secrets (Yelp's maintained rule set: cloud, chat, payment and
registry tokens; used as data, the plugins' `denylist` patterns, without their noisy keyword and entropy
plugins), the kinds it lacks (Azure connection strings, Slack app tokens and workflow webhooks, Stripe webhook
secrets, npm / Hugging Face tokens, base64 private keys in a Kubernetes Secret, JWTs, docker auths), and an
entropy rule: a long, random-looking literal assigned to a name that says key, secret, token or password.
Secret text is never indexed, never given to the model as context, never stored, and a secret file gets no
completion: with a remote runtime the prompt leaves the machine. Every pattern is bounded, so a scan is
linear in the text.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections import Counter
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import PurePosixPath

SECRET_NAMES = tuple(
    """
    .env .env.* *.env *.pem *.key *.p12 *.pfx *.jks *.keystore *.ppk id_rsa* id_dsa* id_ecdsa* id_ed25519*
    .netrc .npmrc .pypirc .git-credentials .htpasswd credentials credentials.json *.credentials *.token
    token.json service-account*.json *secret*.json *secrets*.yaml *secrets*.yml .dockercfg
    """.split()
)

# detect-secrets' plugins whose patterns name a token kind, each with the literals (lower-case) one of which
# any match contains: a scan runs a plugin's patterns only on text holding one (none: always). Left out: its
# keyword and high-entropy plugins and the keyword rules of IBM Cloud, IBM COS, Cloudant and SoftLayer (0.6 s
# a MB of code between them; the entropy rule below catches their keys), public IP addresses (no secret),
# Artifactory (`AP` + a hex digit and 8 letters matches identifiers such as APDUCommand), its JWT pattern (an
# unsigned `eyJ...` too; ours asks for a signature) and user:password URLs (documentation's
# `postgres://user:password@localhost` everywhere).
_GITHUB = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
DETECT_SECRETS_PLUGINS: dict[tuple[str, str], tuple[str, ...]] = {
    ("aws", "AWSKeyDetector"): ("akia", "asia", "a3t", "abia", "acca", "aws"),
    ("azure_storage_key", "AzureStorageKeyDetector"): ("accountkey",),
    ("discord", "DiscordBotTokenDetector"): (),
    ("github_token", "GitHubTokenDetector"): _GITHUB,
    ("gitlab_token", "GitLabTokenDetector"): (
        *("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-", "glptt-"),
        *("glagent-", "gloas-"),
    ),
    ("mailchimp", "MailchimpDetector"): ("-us",),
    ("npm", "NpmDetector"): ("_authtoken",),
    ("openai", "OpenAIDetector"): ("t3blbkfj",),
    ("private_key", "PrivateKeyDetector"): ("private key", "putty-user-key-file"),
    ("pypi_token", "PypiTokenDetector"): ("pypi-",),
    ("sendgrid", "SendGridDetector"): ("sg.",),
    ("slack", "SlackDetector"): ("xox", "hooks.slack.com"),
    ("square_oauth", "SquareOAuthDetector"): ("sq0csp-",),
    ("stripe", "StripeDetector"): ("k_live_",),
    ("telegram_token", "TelegramBotTokenDetector"): (),
    ("twilio", "TwilioKeyDetector"): (),
}

# PEM headers of private keys: found as text, and base64-encoded as a Kubernetes Secret's `data` holds them
_PRIVATE_KEY_HEADERS = [
    f"-----BEGIN {kind}PRIVATE KEY{block}-----"
    for kind, block in [
        ("", ""),
        ("RSA ", ""),
        ("DSA ", ""),
        ("EC ", ""),
        ("OPENSSH ", ""),
        ("ENCRYPTED ", ""),
        ("PGP ", " BLOCK"),
    ]
]


def _base64_prefix(text: str) -> str:
    """The base64 of `text`'s whole 3-byte groups: what any encoding of a blob starting with `text` starts with."""
    whole = len(text) - len(text) % 3
    return base64.b64encode(text[:whole].encode()).decode()


# housecoder's own token rules: (the lower-case literals one of which a match contains, the pattern)
_OWN_RULES: list[tuple[tuple[str, ...], str]] = [
    (("private key",), r"-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"),
    (("ls0tls1crudjti",), "|".join(re.escape(_base64_prefix(header)) for header in _PRIVATE_KEY_HEADERS)),
    (("putty-user-key-file",), r"PuTTY-User-Key-File-\d"),  # PuTTY private keys (.ppk)
    (("akia", "asia"), r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    (("aws_secret_access_key",), r"(?i)aws_secret_access_key\s{0,8}[=:]\s{0,8}['\"]?[A-Za-z0-9/+=]{40}"),
    (_GITHUB, r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),  # GitHub tokens
    (("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{60,}\b"),
    (("xox",), r"\bxox[abeprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    (("xapp-",), r"\bxapp-\d-[A-Za-z0-9-]{20,}"),  # Slack app-level token
    (("hooks.slack.com",), r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,}"),
    (("aiza",), r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    (("sk-",), r"\bsk-(?:proj-|live-|ant-)?[A-Za-z0-9_-]{32,}\b"),  # OpenAI and Anthropic style secret keys
    (("k_live_",), r"\b[sr]k_live_[0-9A-Za-z]{16,}\b"),  # Stripe live secret and restricted keys
    (("whsec_",), r"\bwhsec_[A-Za-z0-9+/=]{24,}"),  # Stripe webhook signing secret
    (("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}\b"),  # GitLab
    (("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),  # npm access token
    (("pypi-",), r"\bpypi-[A-Za-z0-9_-]{50,}"),  # PyPI API token
    (("hf_", "api_org_"), r"\b(?:hf|api_org)_[A-Za-z]{34}\b"),  # Hugging Face user and organisation tokens
    (("sg.",), r"\bSG\.[A-Za-z0-9_-]{20,24}\.[A-Za-z0-9_-]{40,45}"),  # SendGrid
    (
        ("accountkey", "sharedaccesskey", "primarykey", "secondarykey"),  # Azure connection strings
        r"(?i)\b(?:AccountKey|SharedAccessKey|PrimaryKey|SecondaryKey)\s{0,4}=\s{0,4}[A-Za-z0-9+/]{30,}={0,2}",
    ),
    (
        ("sig=",),
        r"\bsv=\d{4}-\d\d-\d\d&[^\s'\"]{0,300}?\bsig=[A-Za-z0-9%+/]{30,}",
    ),  # Azure shared access signature
    (("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # a signed JWT
    (
        ("jwt",),
        r"(?im)\bjwt[_-]?(?:secret|signing[_-]?key)\w{0,20}['\"]?\s{0,8}[=:]\s{0,8}"
        r"(?:['\"][^\s'\"]{8,}['\"]|[\w+/=-]{16,}$)",
    ),
    (
        ('"auths"',),  # docker config.json
        r"\"auths\"\s{0,8}:\s{0,8}\{[\s\S]{0,600}?\"auth\"\s{0,8}:\s{0,8}\"[A-Za-z0-9+/=]{12,}\"",
    ),
]

# The entropy rule: `NAME = "value"`, `NAME: value`, `NAME=value` (shell, .env, YAML, JSON, TOML) where NAME says
# what it holds and the value looks random: long enough, one token, letters and digits, high entropy.
_SECRET_WORD = r"(?:key|secret|token|passw(?:or)?d|pwd|credential|auth)"
_ASSIGNED = re.compile(
    r"(?i)" + _SECRET_WORD + r"[A-Za-z0-9_.-]{0,30}['\"]?"
    r"\s{0,8}(?::=|=>|=|:)\s{0,8}(?:[brf]?['\"])?([A-Za-z0-9+/=_.~-]{20,200})"
)
_SECRET_WORD_LITERALS = re.compile(r"key|secret|token|passw|pwd|credential|auth")
MIN_ENTROPY_BITS = 3.5  # Shannon entropy per character of the value (a random base64 string of 20: about 4.1)


# (lower-case literals, one of which every match holds; the pattern)
Rule = tuple[tuple[str, ...], re.Pattern[str]]


def _detect_secrets_rules() -> Iterator[Rule]:
    import importlib

    for (module, name), anchors in DETECT_SECRETS_PLUGINS.items():
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
        for pattern in plugin.denylist:
            yield anchors, pattern


@functools.cache
def token_rules() -> tuple[Rule, ...]:
    """Every token rule: detect-secrets' and housecoder's own (compiled once, on first use)."""
    own = [(anchors, re.compile(source)) for anchors, source in _OWN_RULES]
    return (*_detect_secrets_rules(), *own)


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


_WORDS = re.compile(
    r"[a-z]{8}|[A-Z]{8}|(?:[A-Z][a-z]{3,}){2}|[/.]{2}|\.(?:py|js|ts|json|ya?ml|pem|txt|html?)$"
)
_SEPARATORS = re.compile(r"[_./-]")


def random_looking(value: str) -> bool:
    """True for a value that looks generated: letters and at least two digits, high entropy, and nothing that
    reads as words, an identifier or a path (a run of lower- or upper-case letters, CamelCase words, parts
    between separators that are each all letters or all digits, a file name)."""
    if sum(c.isdigit() for c in value) < 2 or not any(c.isalpha() for c in value) or _WORDS.search(value):
        return False
    if all(part.isalpha() or part.isdigit() for part in _SEPARATORS.split(value) if part):
        return False  # user_1234_profile, v2.10.3-rc: names and numbers joined
    return _entropy(value) >= MIN_ENTROPY_BITS


def _assigned_secret(text: str) -> bool:
    return any(random_looking(match.group(1)) for match in _ASSIGNED.finditer(text))


def is_secret_name(path: str) -> bool:
    """True for a file whose name says it holds secrets (`.env`, `id_rsa`, `*.pem`, ...); `path` may have folders."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    return any(fnmatch(name, pattern) for pattern in SECRET_NAMES)


def holds_secret(text: str) -> bool:
    """True when `text` contains a private key, a token, or a random-looking value assigned to a secret's name.
    A rule's pattern runs only where one of its literals occurs (a substring search is ~50 times faster)."""
    lowered = text.lower()
    for anchors, pattern in token_rules():
        if (not anchors or any(anchor in lowered for anchor in anchors)) and pattern.search(text):
            return True
    return _SECRET_WORD_LITERALS.search(lowered) is not None and _assigned_secret(text)


def holds_secret_bytes(data: bytes) -> bool:
    """`holds_secret` for raw file content (decoded as UTF-8, undecodable bytes replaced)."""
    return holds_secret(data.decode("utf-8", errors="replace"))


def is_secret(path: str, text: str) -> bool:
    """The rule for a document: a secret name or secret content."""
    return is_secret_name(path) or holds_secret(text)
