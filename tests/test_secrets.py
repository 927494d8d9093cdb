"""The one secret rule: file names and contents that never reach an index or a prompt."""

from __future__ import annotations

import pytest

from housecoder.secrets import holds_secret, holds_secret_bytes, is_secret, is_secret_name

PLANTED = {
    "a private key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
    "a PuTTY key": "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
    "an AWS key id": 'key = "AKIAIOSFODNN7EXAMPLE"\n',
    "an AWS secret": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "a GitHub token": "token = 'ghp_" + "a" * 36 + "'\n",
    "an OpenAI key": "OPENAI = 'sk-" + "A1b2" * 10 + "'\n",
    "a Stripe live key": "stripe.api_key = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "'\n",
    "a JWT": "auth = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'\n",
    "a JWT signing secret": "JWT_SECRET = 'f8a9c1d2e3b4a5968778'\n",
    "a JWT secret in YAML": "auth:\n  jwt_secret: f8a9c1d2e3b4a5968778aa\n",
    "a docker auth": '{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNzd29yZA=="}}}\n',
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_secrets_are_found_in_text_and_bytes(name: str) -> None:
    text = "def f():\n    return 1\n" + PLANTED[name]
    assert holds_secret(text) and holds_secret_bytes(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "def f():\n    return 1\n",
        "The secret word is 'sk' followed by nothing.\n",
        "sk_test_ is a Stripe test prefix\n",
        "token = os.environ['JWT']\nsecret = settings.jwt_secret\n",  # reads a secret, does not hold one
        'JWT_SECRET = os.environ["JWT_SECRET"]\n',
    ],
)
def test_ordinary_code_is_not_a_secret(text: str) -> None:
    assert not holds_secret(text)


@pytest.mark.parametrize(
    "path",
    [".env", "app/.env.production", "deploy/server.pem", "keys/id_rsa", "me.ppk", "ops/db-secrets.yaml"],
)
def test_secret_names(path: str) -> None:
    assert is_secret_name(path) and is_secret(path, "x = 1\n")


def test_ordinary_names_with_ordinary_text_are_not_secret() -> None:
    assert not is_secret("app/environment.py", "x = 1\n") and not is_secret_name("src/keys.py")


def test_a_long_hostile_text_is_scanned_quickly() -> None:
    import time

    text = "eyJ" + "a" * 300_000 + ' "auths": {' * 20_000 + "sk_live_" * 20_000
    started = time.perf_counter()
    assert not holds_secret(text)
    assert time.perf_counter() - started < 20  # linear: well under a second; quadratic: minutes
