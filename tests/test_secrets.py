"""The one secret rule: file names and contents that never reach an index or a prompt."""

from __future__ import annotations

import base64

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
    # the kinds the last attack round found in the index and in prompts
    "an Azure Storage connection string": 'CONN = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey='
    + "Zk9" * 28
    + 'q==;EndpointSuffix=core.windows.net"\n',
    "an Azure Service Bus connection string": "bus = 'Endpoint=sb://acme.servicebus.windows.net/;"
    "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + "k3Jq8ZmW2x" * 4 + "abc='\n",
    "an Azure shared access signature": "url = 'https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=sco"
    "&sp=rl&se=2026-01-01T00:00:00Z&sig=" + "aB3dE5fG7h" * 4 + "%3D'\n",
    "a Slack app token": "SLACK_APP = 'xapp-1-A0123456789-1234567890123-" + "0a1b2c3d4e" * 6 + "'\n",
    "a Slack webhook": "HOOK = 'https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/"
    + "Qx7Lm2Np9Rt4" * 2
    + "'\n",
    "a Stripe webhook secret": "endpoint_secret = 'whsec_" + "Ab1Cd2Ef3Gh4" * 3 + "'\n",
    "an npm token outside .npmrc": "NPM = 'npm_" + "aB1cD2eF3g" * 3 + "hI4jK5'\n",
    "a PyPI token outside .pypirc": "upload(token='pypi-AgEIcHlwaS5vcmc" + "CJDU2ZjM4" * 9 + "')\n",
    "a Hugging Face token": "login('hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh" + "')\n",
    "a SendGrid key": "SENDGRID = 'SG."
    + "aB1cD2eF3gH4iJ5kL6mN7o"
    + "."
    + "pQ8rS9tU0vW1xY2zA3bC4dE5fG6hI7jK8lM9nO0pQ1r"
    + "'\n",
    "a base64 private key in a Kubernetes Secret": "apiVersion: v1\nkind: Secret\ndata:\n  tls.key: "
    + base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7V\n").decode()
    + "\n",
    # a random-looking value under a secret's name
    "a password in a shell script": "export DATABASE_PASSWORD=Zq8rT2xW9vLm4KpY7sNc\n",
    "an API key in Python": 'api_key = "a8F3kq9Zx2Lm7Pw4Rt6Yv1"\n',
    "a client secret in YAML": "oauth:\n  client_secret: 9aZk3Lq8Wm2Xr7Tp5Vn1Bc\n",
    "a token in JSON": '{"access_token": "4f9a8c7e6d5b4a3928176e5d4c3b2a19"}\n',
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
        # names that say key or token, values that are names, numbers, paths, words or patterns
        'cache_key = "user_1234_profile_abcdef"\n',
        'TOKEN_TYPE = "BearerTokenV2Handler123"\n',
        'password = "correct horse battery staple"\n',
        'secret_path = "config/secrets/dev2024.yaml"\n',
        'token_pattern = r"(?u)\\b\\w\\w+\\b"\n',
        "key: value\nauth_url: https://example.com/oauth2/authorize\n",
        'api_version_key = "v2.10.3-rc1-2024-05-01"\n',
        "password: ${DB_PASSWORD}\n",
        'KEY_FILE = "tests/fixtures/server_2048.pem"\n',
        "-----BEGIN CERTIFICATE-----\nMIIB\n" + base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode(),
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

    text = (
        "eyJ"
        + "a" * 300_000
        + ' "auths": {' * 20_000
        + "sk_live_" * 20_000
        + "sv=2020-01-01&" * 20_000
        + "key = " * 50_000
        + ("token: " + "a1" * 150 + " ") * 2_000
        + "AccountKey= " * 20_000
        + "LS0tLS1CRUdJ " * 20_000
        + "-us" * 50_000
    )
    started = time.perf_counter()
    assert not holds_secret(text)
    assert time.perf_counter() - started < 20  # linear: well under a second; quadratic: minutes
