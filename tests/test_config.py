"""Configuration: sources, precedence, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.config import ConfigError, Settings, find_project_root, load_settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_files(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings == Settings()
    assert settings.models.code_model == "qwen2.5-coder-1.5b-instruct"
    assert settings.models.cache_dir is None


@pytest.mark.parametrize(
    ("pyproject", "project_file", "overrides", "expected_tokens"),
    [
        ("", "", {}, 64),
        ("[tool.housecoder.completion]\nmax_new_tokens = 10\n", "", {}, 10),
        ("[tool.housecoder.completion]\nmax_new_tokens = 10\n", "[completion]\nmax_new_tokens = 20\n", {}, 20),
        ("[tool.housecoder.completion]\nmax_new_tokens = 10\n", "[completion]\nmax_new_tokens = 20\n", {"max_new_tokens": 30}, 30),
        ("[tool.housecoder.completion]\nmax_new_tokens = 10\n", "", {"max_new_tokens": None}, 10),
    ],
)
def test_precedence_defaults_pyproject_project_file_overrides(
    tmp_path: Path, pyproject: str, project_file: str, overrides: dict[str, int | None], expected_tokens: int
) -> None:
    if pyproject:
        _write(tmp_path / "pyproject.toml", pyproject)
    if project_file:
        _write(tmp_path / ".housecoder.toml", project_file)
    settings = load_settings(tmp_path, {"completion": overrides})
    assert settings.completion.max_new_tokens == expected_tokens


def test_other_sections_of_the_files_are_kept_when_merging(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.housecoder.models]\nembedder = 'x'\n[tool.other]\na = 1\n")
    _write(tmp_path / ".housecoder.toml", "[models]\noffline = true\n")
    settings = load_settings(tmp_path)
    assert settings.models.embedder == "x" and settings.models.offline is True


def test_relative_cache_dir_is_relative_to_the_project(tmp_path: Path) -> None:
    _write(tmp_path / ".housecoder.toml", "[models]\ncache_dir = 'cache/models'\n")
    assert load_settings(tmp_path).models.cache_dir == tmp_path / "cache" / "models"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[completion]\nmax_new_tokens = 'many'\n", "completion.max_new_tokens: Input should be a valid integer"),
        ("[completion]\nmax_new_tokens = 0\n", "completion.max_new_tokens: Input should be greater than or equal to 1"),
        ("[models]\ndevice = 'tpu'\n", "models.device: Input should be 'auto', 'cpu' or 'cuda'"),
        ("[models]\ncode_modle = 'x'\n", "models.code_modle: Extra inputs are not permitted"),
        ("[sever]\nport = 1\n", "sever: Extra inputs are not permitted"),
        ("[models\n", "invalid TOML"),
    ],
)
def test_bad_files_name_the_file_and_the_key_in_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    _write(tmp_path / ".housecoder.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    message = str(caught.value)
    assert fragment in message
    assert ".housecoder.toml" in message
    assert "\n" not in message


def test_bad_override_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"settings: completion\.temperature"):
        load_settings(tmp_path, {"completion": {"temperature": 9}})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.models.offline = True  # type: ignore[misc]


def test_project_root_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "f.py").write_text("")
    assert find_project_root(deep / "f.py") == tmp_path
    _write(tmp_path / "a" / ".housecoder.toml", "")
    assert find_project_root(deep) == tmp_path / "a"


@pytest.mark.parametrize(
    ("text", "section", "key", "expected"),
    [
        ("[index]\nlocation = 'idx'\n", "index", "location", "{root}/idx"),
        ("[index]\nlocation = 's3://bucket/idx'\n", "index", "location", "s3://bucket/idx"),
        ("[models]\ncode_model = 'Qwen/Qwen2.5-Coder-1.5B'\n", "models", "code_model", "Qwen/Qwen2.5-Coder-1.5B"),
        ("[models]\ncode_model = './weights/m.gguf'\n", "models", "code_model", "{root}/weights/m.gguf"),
        ("[models]\nembedder = 'all-minilm-l6-v2'\n", "models", "embedder", "all-minilm-l6-v2"),
    ],
)
def test_relative_paths_in_files_are_relative_to_the_project(
    tmp_path: Path, text: str, section: str, key: str, expected: str
) -> None:
    _write(tmp_path / ".housecoder.toml", text)
    value = getattr(getattr(load_settings(tmp_path), section), key)
    assert str(value) == expected.format(root=tmp_path)
