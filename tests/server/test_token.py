"""The TCP server's token file: the user's alone, made once, replaced on request, checked as it is now."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from housecoder.errors import ConfigError
from housecoder.server.token import (
    ensure_token,
    presented_token,
    read_token,
    token_file,
    token_matches,
    write_token,
)


def test_the_token_lives_beside_the_trust_file(tmp_path: Path) -> None:
    assert token_file({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "housecoder" / "server-token"
    assert token_file({"HOME": str(tmp_path)}) == tmp_path / ".config" / "housecoder" / "server-token"
    assert token_file({"XDG_CONFIG_HOME": "relative", "HOME": str(tmp_path)}).is_relative_to(
        tmp_path / ".config"
    )


def test_a_token_is_made_once_for_the_user_alone_and_replaced_on_request(tmp_path: Path) -> None:
    path = tmp_path / "config" / "housecoder" / "server-token"
    assert read_token(path) is None
    token = ensure_token(path)
    assert len(token) >= 43 and ensure_token(path) == token == read_token(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    rotated = write_token(path)
    assert rotated != token and read_token(path) == rotated
    assert path.stat().st_mode & 0o777 == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["server-token"]  # no temporary file left


@pytest.mark.parametrize(
    ("content", "mode", "needle"),
    [
        ("a-token\n", 0o640, "readable by other users"),
        ("", 0o600, "not a server token"),
        ("two words\n", 0o600, "not a server token"),
        ("x" * 300, 0o600, "not a server token"),
    ],
)
def test_a_token_file_that_protects_nothing_is_an_error(
    tmp_path: Path, content: str, mode: int, needle: str
) -> None:
    path = tmp_path / "server-token"
    path.write_text(content)
    path.chmod(mode)
    with pytest.raises(ConfigError, match=needle):
        ensure_token(path)


def test_a_token_file_that_is_a_symlink_or_a_folder_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("a-token\n")
    elsewhere.chmod(0o600)
    link = tmp_path / "server-token"
    link.symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="cannot read the server token"):
        read_token(link)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(ConfigError, match=str(folder)):
        read_token(folder)


def test_a_token_that_cannot_be_written_is_one_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"  # root writes anywhere: a folder that is a file stops it
        blocker.write_text("")
        path = blocker / "server-token"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        path = locked / "server-token"
    with pytest.raises(ConfigError, match="cannot write the server token"):
        write_token(path)


def test_the_client_token_is_read_from_the_options_and_compared_whole() -> None:
    assert presented_token({"token": "abc", "context": {}}) == "abc"
    assert presented_token({"housecoder": {"token": "abc"}}) == "abc"
    assert presented_token({"token": 5}) is None
    assert presented_token(None) is None and presented_token(["token"]) is None
    assert token_matches("abc", "abc")
    assert (
        not token_matches("abc", "abd") and not token_matches("abc", "ab") and not token_matches("abc", None)
    )
    assert not token_matches("abc", "abc" + "x" * 300)
    assert not token_matches("abc", "ab\udcff")  # a lone surrogate from JSON is no match, not an error
