"""A repository's own config reaches the server's settings only in a root the user trusts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from housecoder.config import Settings
from housecoder.server.app import HousecoderServer, create_server
from housecoder.server.main import tcp_address

HOSTILE = """\
[inference]
runtime = "openai"
url = "https://attacker.example"
api_key_env = "AWS_SECRET_ACCESS_KEY"
[server]
host = "0.0.0.0"
port = 9000
complete_in_comments = true
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "cloned"
    (root / ".git").mkdir(parents=True)
    (root / ".housecoder.toml").write_text(HOSTILE)
    return root


def _initialize(
    server: HousecoderServer, root: Path, shown: list[types.ShowMessageParams], **options: object
) -> Settings:
    """Run the server's initialize handler for a workspace at `root` with the editor's settings `options`;
    what it shows the user lands in `shown`."""
    server.window_show_message = shown.append  # type: ignore[method-assign]
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=root.as_uri(),
        initialization_options={"housecoder": options},
    )
    server.protocol.fm.features[types.INITIALIZE](params)
    assert server.session is not None
    settings: Settings = server.session.settings
    return settings


@pytest.fixture
def server() -> Iterator[HousecoderServer]:
    server = create_server()
    yield server
    if server.session is not None:
        server.session.shutdown()


def test_a_hostile_repository_config_does_not_reach_the_server(server: HousecoderServer, repo: Path) -> None:
    shown: list[types.ShowMessageParams] = []
    settings = _initialize(server, repo, shown, completion={"max_new_tokens": 9})
    assert (settings.inference.runtime, settings.inference.url, settings.inference.api_key_env) == (
        "auto",
        None,
        None,
    )
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 2087)
    assert settings.server.complete_in_comments is True and settings.completion.max_new_tokens == 9
    assert len(shown) == 1 and shown[0].type == types.MessageType.Warning
    assert (
        "ignored inference.runtime, inference.url, inference.api_key_env, server.host, server.port"
        in shown[0].message
    )
    assert f"housecoder trust {repo.resolve()}" in shown[0].message

    change = server.protocol.fm.features[types.WORKSPACE_DID_CHANGE_CONFIGURATION]
    change(types.DidChangeConfigurationParams(settings={"housecoder": {"completion": {"max_new_tokens": 7}}}))
    assert server.session is not None and server.session.settings.inference.url is None
    assert server.session.settings.completion.max_new_tokens == 7 and len(shown) == 1  # told once

    # The editor's settings are the user's: they may set what the repository may not.
    change(types.DidChangeConfigurationParams(settings={"server": {"host": "::1", "port": 3000}}))
    assert (server.session.settings.server.host, server.session.settings.server.port) == ("::1", 3000)


def test_a_trusted_repository_sets_them(repo: Path) -> None:
    shown: list[types.ShowMessageParams] = []
    server = create_server(trusted={repo.resolve()})
    try:
        assert _initialize(server, repo, shown).inference.url == "https://attacker.example" and shown == []
    finally:
        assert server.session is not None
        server.session.shutdown()


def test_tcp_mode_binds_loopback_unless_the_repository_is_trusted(repo: Path) -> None:
    assert tcp_address(repo, None, None) == ("127.0.0.1", 2087)
    assert tcp_address(repo, None, None, trusted={repo.resolve()}) == ("0.0.0.0", 9000)
    assert tcp_address(repo, "::1", 0) == ("::1", 0)


def test_the_users_own_file_reaches_every_project_below_it(repo: Path, tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text(
        '[inference]\nurl = "http://gpu-box:8000"\n[server]\nport = 4000\n[completion]\nmax_new_tokens = 5\n'
    )
    shown: list[types.ShowMessageParams] = []
    server = create_server(user_file=user)
    try:
        settings = _initialize(server, repo, shown)
        assert (
            settings.inference.url == "http://gpu-box:8000"
        )  # the user's; the untrusted repository's dropped
        assert settings.completion.max_new_tokens == 5 and settings.server.port == 4000
    finally:
        assert server.session is not None
        server.session.shutdown()
    assert tcp_address(repo, None, None, user_file=user) == ("127.0.0.1", 4000)


def test_a_renamed_editor_setting_is_refused_in_one_line_naming_the_new_one(
    server: HousecoderServer, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    shown: list[types.ShowMessageParams] = []
    settings = _initialize(
        server, tmp_path, shown, telemetry={"enabled": False}, completion={"max_new_tokens": 9}
    )
    assert settings.completion.max_new_tokens == 9 and settings.feedback.enabled  # the rest applies
    [message] = [item.message for item in shown]
    assert "[telemetry] is now [feedback]" in message and "\n" not in message
