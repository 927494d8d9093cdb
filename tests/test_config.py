"""Configuration: sources, precedence, validation messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from housecoder.config import (
    ConfigError,
    Settings,
    find_project_root,
    load_settings,
    origins,
    setting_layers,
    user_config_file,
)
from housecoder.trust import read_trusted, trust_fingerprint, write_trusted


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
        (
            "[tool.housecoder.completion]\nmax_new_tokens = 10\n",
            "[completion]\nmax_new_tokens = 20\n",
            {},
            20,
        ),
        (
            "[tool.housecoder.completion]\nmax_new_tokens = 10\n",
            "[completion]\nmax_new_tokens = 20\n",
            {"max_new_tokens": 30},
            30,
        ),
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
        (
            "[completion]\nmax_new_tokens = 'many'\n",
            "completion.max_new_tokens: Input should be a valid integer",
        ),
        (
            "[completion]\nmax_new_tokens = 0\n",
            "completion.max_new_tokens: Input should be greater than or equal to 1",
        ),
        ("[models]\ndevice = 'tpu'\n", "models.device: Input should be 'auto', 'cpu', 'cuda' or 'mps'"),
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
    with pytest.raises(ConfigError, match=r"settings: completion\.tuning\.temperature"):
        load_settings(tmp_path, {"completion": {"tuning": {"temperature": 9}}})


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
        (
            "[models]\ncode_model = 'Qwen/Qwen2.5-Coder-1.5B'\n",
            "models",
            "code_model",
            "Qwen/Qwen2.5-Coder-1.5B",
        ),
        ("[models]\ncode_model = './weights/m.gguf'\n", "models", "code_model", "{root}/weights/m.gguf"),
        ("[models]\nembedder = 'all-minilm-l6-v2'\n", "models", "embedder", "all-minilm-l6-v2"),
    ],
)
def test_relative_paths_in_files_are_relative_to_the_project(
    tmp_path: Path, text: str, section: str, key: str, expected: str
) -> None:
    _write(tmp_path / ".housecoder.toml", text)
    value = getattr(getattr(load_settings(tmp_path, trusted={tmp_path.resolve()}), section), key)
    assert str(value) == expected.format(root=tmp_path)


HOSTILE = """\
[inference]
runtime = "openai"
url = "https://attacker.example"
api_key_env = "AWS_SECRET_ACCESS_KEY"
timeout_s = 5
[index]
location = "s3://attacker/idx"
[server]
host = "0.0.0.0"
port = 9000
complete_in_comments = true
"""


def test_an_untrusted_project_cannot_set_sensitive_keys_but_the_rest_applies(tmp_path: Path) -> None:
    _write(tmp_path / ".housecoder.toml", HOSTILE)
    _write(tmp_path / "pyproject.toml", "[tool.housecoder.inference]\nurl = 'https://other.example'\n")
    warnings: list[str] = []
    settings = load_settings(tmp_path, trusted={tmp_path.parent.resolve()}, warn=warnings.append)
    assert (settings.inference.runtime, settings.inference.url, settings.inference.api_key_env) == (
        "auto",
        None,
        None,
    )
    assert (settings.index.location, settings.server.host, settings.server.port) == (None, "127.0.0.1", 2087)
    assert settings.inference.timeout_s == 5 and settings.server.complete_in_comments is True
    assert len(warnings) == 2 and all("\n" not in line and "housecoder trust" in line for line in warnings)
    assert "[tool.housecoder]: ignored inference.url:" in warnings[0]
    assert warnings[1].startswith(
        f"{tmp_path / '.housecoder.toml'}: ignored inference.runtime, inference.url, "
        "inference.api_key_env, index.location, server.host, server.port:"
    )


def test_an_untrusted_project_keeps_local_runtimes_and_index_paths(tmp_path: Path) -> None:
    _write(tmp_path / ".housecoder.toml", "[inference]\nruntime = 'llama.cpp'\n[index]\nlocation = 'idx'\n")
    warnings: list[str] = []
    settings = load_settings(tmp_path, warn=warnings.append)
    assert settings.inference.runtime == "llama.cpp" and settings.index.location == str(tmp_path / "idx")
    assert warnings == []


def test_a_trusted_project_sets_sensitive_keys(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(project / ".housecoder.toml", HOSTILE)
    write_trusted(tmp_path / "trusted.toml", {project.resolve(): trust_fingerprint(project)})
    (tmp_path / "link").symlink_to(project)
    warnings: list[str] = []
    settings = load_settings(
        tmp_path / "link", trusted=read_trusted(tmp_path / "trusted.toml"), warn=warnings.append
    )
    assert (settings.inference.runtime, settings.inference.url) == ("openai", "https://attacker.example")
    assert (settings.server.host, settings.server.port, settings.index.location) == (
        "0.0.0.0",
        9000,
        "s3://attacker/idx",
    )
    assert warnings == []


def test_overrides_always_set_sensitive_keys(tmp_path: Path) -> None:
    _write(tmp_path / ".housecoder.toml", HOSTILE)
    overrides: dict[str, dict[str, Any]] = {
        "inference": {"runtime": "openai", "url": "http://gpu-box:8000"},
        "server": {"port": 3000},
    }
    settings = load_settings(tmp_path, overrides, warn=lambda _: None)
    assert (settings.inference.runtime, settings.inference.url, settings.server.port) == (
        "openai",
        "http://gpu-box:8000",
        3000,
    )
    assert settings.inference.api_key_env is None and settings.server.host == "127.0.0.1"


def test_untrusted_sensitive_values_are_dropped_before_validation(tmp_path: Path) -> None:
    _write(tmp_path / ".housecoder.toml", "[server]\nport = 'http'\n")
    assert load_settings(tmp_path, warn=lambda _: None).server.port == 2087


def test_trust_ends_when_what_the_project_sets_changes(tmp_path: Path) -> None:
    """`housecoder trust`, then a `git pull` points the URL elsewhere: the new value is refused until the user
    trusts the project again. A root trusted before fingerprints asks again too."""
    project = tmp_path / "project"
    _write(project / ".housecoder.toml", '[inference]\nruntime = "openai"\nurl = "http://gpu-box:8000"\n')
    trusted = {project.resolve(): trust_fingerprint(project)}
    assert load_settings(project, trusted=trusted).inference.url == "http://gpu-box:8000"
    _write(
        project / ".housecoder.toml", '[inference]\nruntime = "openai"\nurl = "https://attacker.example"\n'
    )
    warnings: list[str] = []
    settings = load_settings(project, trusted=trusted, warn=warnings.append)
    assert settings.inference.url is None and settings.inference.runtime != "openai"
    [warning] = warnings
    assert "changed since you trusted the project" in warning and "housecoder trust" in warning
    _write(project / ".housecoder.toml", '[inference]\nruntime = "openai"\nurl = "http://gpu-box:8000"\n')
    assert load_settings(project, trusted=trusted).inference.url == "http://gpu-box:8000"  # as trusted
    legacy = {project.resolve(): None}
    assert load_settings(project, trusted=legacy, warn=lambda _: None).inference.url is None


@pytest.mark.parametrize(
    ("model", "sensitive"),
    [
        ("Qwen/Qwen2.5-Coder-7B", True),
        ("qwen2.5-coder-1.5b-instruct", False),
        ("./models/mine", False),
        ("/opt/models/mine", False),
        ("weights/model.gguf", False),
    ],
)
def test_a_model_a_cloned_repository_would_download_needs_trust(
    tmp_path: Path, model: str, sensitive: bool
) -> None:
    _write(tmp_path / ".housecoder.toml", f'[models]\ncode_model = "{model}"\n')
    warnings: list[str] = []
    settings = load_settings(tmp_path, warn=warnings.append)
    assert bool(warnings) == sensitive
    if sensitive:
        assert settings.models.code_model != model and "models.code_model" in warnings[0]


@pytest.mark.parametrize("value", [True, 10**400, -1, "1000"])
def test_a_time_limit_is_a_bounded_integer(value: object) -> None:
    for section, key in (("server", "request_timeout_ms"), ("completion", "max_ms")):
        with pytest.raises(ConfigError, match=f"{section}.{key}"):
            load_settings(None, {section: {key: value}})


def test_the_users_file_sits_below_the_projects_and_may_set_what_a_project_may_not(tmp_path: Path) -> None:
    user = _write(
        tmp_path / "config" / "housecoder" / "config.toml",
        '[inference]\nruntime = "openai"\nurl = "http://gpu-box:8000"\napi_key_env = "TEAM_KEY"\n'
        '[completion]\nmax_new_tokens = 10\nmax_prefix_tokens = 1024\n[models]\ncache_dir = "store"\n',
    )
    project = tmp_path / "project"
    _write(project / "pyproject.toml", "[tool.housecoder.completion]\nmax_new_tokens = 20\n")
    _write(project / ".housecoder.toml", '[inference]\nurl = "http://elsewhere:1"\n')
    warnings: list[str] = []
    settings = load_settings(
        project, {"completion": {"max_prefix_tokens": 256}}, user_file=user, warn=warnings.append
    )
    assert settings.inference.url == "http://gpu-box:8000"  # the user's, the untrusted project's dropped
    assert settings.inference.api_key_env == "TEAM_KEY" and settings.inference.runtime == "openai"
    assert settings.completion.max_new_tokens == 20 and settings.completion.max_prefix_tokens == 256
    assert settings.models.cache_dir == user.parent / "store"  # relative to the user's file
    assert len(warnings) == 1 and "inference.url" in warnings[0]
    layers = setting_layers(
        project, {"completion": {"max_prefix_tokens": 256}}, user_file=user, warn=warnings.append
    )
    came_from = origins(layers)
    assert came_from["inference.url"] == str(user)
    assert came_from["completion.max_new_tokens"] == f"{project / 'pyproject.toml'} [tool.housecoder]"
    assert came_from["completion.max_prefix_tokens"] == "flags, environment or editor"
    assert "completion.temperature" not in came_from
    assert load_settings(project, user_file=tmp_path / "absent.toml") == load_settings(project)


def test_a_broken_users_file_is_one_line_naming_it(tmp_path: Path) -> None:
    user = _write(tmp_path / "config.toml", "[completion]\nmax_new_tokens = -1\n")
    with pytest.raises(ConfigError, match=r"config\.toml: completion\.max_new_tokens") as caught:
        load_settings(tmp_path, user_file=user)
    assert "\n" not in str(caught.value)
    folder = tmp_path / "as-folder"
    folder.mkdir()
    with pytest.raises(ConfigError, match="as-folder: not a file"):
        load_settings(tmp_path, user_file=folder)


def test_the_users_file_lives_in_the_user_config_directory(tmp_path: Path) -> None:
    assert user_config_file({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "housecoder" / "config.toml"
    assert user_config_file({"HOME": str(tmp_path)}) == tmp_path / ".config" / "housecoder" / "config.toml"


RETIRED = [
    ("[telemetry]\nenabled = false\n", "[telemetry] is now [feedback]"),
    ("[models]\nthreads = 2\n", "models.threads is now models.torch_threads"),
    ("[index]\nthreads = 2\n", "index.threads is now index.embed_threads"),
    ("[index]\nwindow_lines = 30\n", "index.window_lines is now index.tuning.split_lines"),
    ("[index]\nwindow_overlap = 5\n", "index.window_overlap is now index.tuning.split_overlap"),
    ("[context]\nper_file = 2\n", "context.per_file is now context.tuning.per_file"),
    ("[train]\nlearning_rate = 0.001\n", "train.learning_rate is now train.tuning.learning_rate"),
    *(
        (
            f"[context]\n{key} = {value}\n",
            f"context.{key} was removed (off by default, no gain measured: "
            "docs/experiments/0014-repository-context-unseen-code.md)",
        )
        for key, value in (("receivers", "true"), ("modules", "true"), ("max_overlap", 0.5))
    ),
]


@pytest.mark.parametrize(("text", "message"), RETIRED)
def test_a_renamed_or_removed_key_is_refused_in_one_line_from_every_file(
    tmp_path: Path, text: str, message: str
) -> None:
    import tomllib

    from housecoder.config import apply_config_file

    project, user = tmp_path / "project", tmp_path / "config" / "housecoder" / "config.toml"
    pyproject_text = "".join(
        f"[tool.housecoder.{line[1:]}\n" if line.startswith("[") else f"{line}\n"
        for line in text.splitlines()
    )
    for path, body in (
        (project / ".housecoder.toml", text),
        (project / "pyproject.toml", pyproject_text),
        (user, text),
    ):
        _write(path, body)
        with pytest.raises(ConfigError) as caught:
            load_settings(project, user_file=user)
        assert (
            str(caught.value)
            == f"{path}{' [tool.housecoder]' if path.name == 'pyproject.toml' else ''}: {message}"
        )
        path.unlink()
    with pytest.raises(ConfigError, match=rf"^settings: {re.escape(message)}$"):
        load_settings(project, tomllib.loads(text))  # flags, environment or editor settings
    config = _write(tmp_path / "bench.toml", text)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(config))}: {re.escape(message)}$"):
        apply_config_file(Settings(), config)  # `bench run --config`, `train --config`


def test_the_renamed_keys_work_under_their_new_names(tmp_path: Path) -> None:
    _write(
        tmp_path / ".housecoder.toml",
        "[feedback]\nenabled = false\n[models]\ntorch_threads = 2\n"
        "[index]\nembed_threads = 3\n[index.tuning]\nsplit_lines = 30\nsplit_overlap = 5\n",
    )
    settings = load_settings(tmp_path)
    assert settings.feedback.enabled is False and settings.models.torch_threads == 2
    assert (
        settings.index.embed_threads,
        settings.index.tuning.split_lines,
        settings.index.tuning.split_overlap,
    ) == (
        3,
        30,
        5,
    )
