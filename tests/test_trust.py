"""The trust store: where it lives, its round trip, its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.errors import ConfigError
from housecoder.trust import read_trusted, trust_file, write_trusted


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/housecoder/trusted.toml"),
        ({"XDG_CONFIG_HOME": "relative", "HOME": "/home/u"}, "/home/u/.config/housecoder/trusted.toml"),
        ({"HOME": "/home/u"}, "/home/u/.config/housecoder/trusted.toml"),
    ],
)
def test_the_trust_file_lives_in_the_user_config_directory(environ: dict[str, str], expected: str) -> None:
    assert trust_file(environ) == Path(expected)


def test_trust_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config" / "housecoder" / "trusted.toml"
    assert read_trusted(path) == {}
    roots: dict[Path, str | None] = {
        Path("/a b/c"): "1" * 64,
        Path('/quote"back\\slash'): "2" * 64,
        Path("/caf\u00e9\x7f\tend"): None,  # trusted before fingerprints
    }
    write_trusted(path, roots)
    assert read_trusted(path) == roots
    write_trusted(path, {})
    assert read_trusted(path) == {}


def test_a_malformed_trust_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "trusted.toml"
    path.write_text("roots = '/a'\n")
    with pytest.raises(ConfigError, match=r"trusted\.toml: roots must be a list of paths$"):
        read_trusted(path)
