"""A real editor: headless Neovim with its built-in LSP client and the documented set-up
(editor-client/neovim/housecoder.lua) starts `housecoder serve` on the shop fixture, indexes it
through the `housecoder.index` command, asks for a completion at the cursor, accepts it into the
buffer, and the test checks the text that came back.

The driver is tests/e2e/nvim/complete.lua. Debian's Neovim (0.7) has no inline completion, so it
sends `textDocument/inlineCompletion` as a raw request and also uses `textDocument/completion`,
the path its omnifunc takes. `make neovim` installs Debian's package; without `nvim` the tests
skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from editors import IN_CI, NO_TIME_LIMITS, default_model_store, neovim_spec

# the real server driven by a real editor (make test-fast skips both markers; make test-editors runs these)
pytestmark = [pytest.mark.e2e, pytest.mark.editor]

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).parent / "nvim" / "complete.lua"
CURSOR = (8, 11)  # shop/checkout.py, after "    return "
EXPECTED = "price_with_vat(order.net_cents, order.country_code)"


@pytest.fixture(scope="module")
def nvim() -> str:
    found = shutil.which("nvim")
    if found is None:
        message = (
            "nvim is not installed: `make neovim` installs Debian's neovim package (apt-get install neovim)"
        )
        if IN_CI:
            pytest.fail(f"{message}; CI must run the Neovim test")
        pytest.skip(message)
    return found


def run_neovim(
    nvim: str, workdir: Path, repo: Path, settings: dict[str, Any], *, timeout_s: int
) -> dict[str, Any]:
    """Run the driver on `repo`/shop/checkout.py at CURSOR; returns what it wrote (fails with the logs)."""
    log, home, output = workdir / "server.log", workdir / "nvim-home", workdir / "result.json"
    env = neovim_spec(
        workdir,
        repo,
        settings,
        line=CURSOR[0],
        col=CURSOR[1],
        index=True,
        timeout_ms=(timeout_s - 30) * 1000,
        output=str(output),
    )
    command = [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {DRIVER}"]
    try:
        proc = subprocess.run(
            command,
            cwd=repo,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        returncode, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as err:
        returncode, stderr = -1, f"timed out after {timeout_s} s; {err.stderr!r}"
    result: dict[str, Any] = json.loads(output.read_text()) if output.exists() else {}
    server_log = log.read_text(errors="replace").splitlines()[-30:] if log.exists() else []
    nvim_log = home / "cache" / "nvim" / "lsp.log"
    client_log = nvim_log.read_text(errors="replace").splitlines()[-30:] if nvim_log.exists() else []
    assert returncode == 0 and "error" not in result, (
        f"nvim exited {returncode}: {result.get('error')}\nstderr: {stderr[-2000:]}\nserver log:\n"
        + "\n".join(server_log)
        + "\nNeovim's LSP log:\n"
        + "\n".join(client_log)
    )
    return result


def check_editor_flow(result: dict[str, Any], repo: Path) -> str:
    """Checks shared by both models; returns the inline completion's text."""
    assert result["filetype"] == "python"
    assert result["client_name"] == "housecoder" and result["server_inline_provider"] is True
    [summary] = result["index"]
    assert Path(summary["root"]) == repo.resolve() and summary["indexed"] == 5, summary
    kinds = [value["kind"] for value in result["progress"] if isinstance(value, dict)]
    assert kinds[0] == "begin" and kinds[-1] == "end", result[
        "progress"
    ]  # $/progress reached Neovim's handler
    assert result["line_before"] == "    return "

    [item] = result["inline"]["items"]
    start = {"line": CURSOR[0], "character": CURSOR[1]}
    assert item["range"] == {"start": start, "end": start}
    text: str = item["insertText"]
    assert text, result["last"]
    assert text == result["last"]["completion"]  # what the server reports it returned for this document
    assert result["line_after_inline"] == "    return " + text
    snippets = {(snippet["path"], snippet["reason"]) for snippet in result["last"]["snippets"]}
    assert ("shop/orders.py", "definition of Order (class)") in snippets, snippets

    if not result["announces_inline"]:  # Neovim before 0.12: the completion fallback and omnifunc
        assert result["omnifunc"] == "v:lua.vim.lsp.omnifunc"
        [entry] = result["completion"]["items"]
        assert entry["textEdit"]["newText"] == text
        assert result["line_after_completion"] == "    return " + text
    return text


def test_neovim_completes_through_the_documented_setup(
    nvim: str, shop: Path, tmp_path: Path, options: dict[str, Any]
) -> None:
    """The tiny random model (fast): the text in Neovim's buffer is exactly what the server produced."""
    result = run_neovim(nvim, tmp_path, shop, options, timeout_s=300)
    text = check_editor_flow(result, shop)
    assert result["last"]["trigger"]["reason"] == "end of a line"
    print(json.dumps({"nvim": result["nvim_version"], "completion": text}))


@pytest.mark.slow
def test_neovim_completes_with_the_real_model(nvim: str, shop: Path, tmp_path: Path) -> None:
    """The real default model: Neovim receives the call with the fields from the other files' definitions."""
    models = default_model_store()
    settings = {
        "models": {"offline": True, "cache_dir": str(models)},
        "index": {"location": str(tmp_path / "index")},
        **NO_TIME_LIMITS,
    }
    result = run_neovim(nvim, tmp_path, shop, settings, timeout_s=900)
    text = check_editor_flow(result, shop)
    assert text == EXPECTED, result["last"]["snippets"]
    print(json.dumps({"nvim": result["nvim_version"], "timings_ms": result["last"]["timings_ms"]}))
