"""Serving without torch: in an environment that is this one less torch, transformers, peft and accelerate
(the serving extras `.[index,server,model,llamacpp]` install none of them), `models pull` writes the embedder
to ONNX and readies a GGUF code model, `index`, `search`, `complete` and `stats` work, the server answers an
inline completion on llama.cpp, and `train` says in one line what to install.

The environment is real: a folder of links to this virtual environment's packages but those, added by
`site` as an environment's own (its .pth files, housecoder's editable install among them), on an interpreter
started with `-S`, so nothing else is on its path."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from lsp import running_server
from lsprotocol import types
from models.gguf_fixture import write_qwen2_gguf

from housecoder.inference.llamacpp_backend import llama_cpp_available

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not llama_cpp_available(), reason="llama-cpp-python is not installed"),
]
TRAINING_ONLY = {"torch", "torchgen", "functorch", "transformers", "peft", "accelerate", "triton", "nvidia"}


@pytest.fixture(scope="module")
def without_torch(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`python -S -c BOOT`: an interpreter with this environment's packages but the training stack; the
    module to run as __main__ follows."""
    site = tmp_path_factory.mktemp("serving-site")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if re.split(r"[-_.]", entry.name.lower(), maxsplit=1)[0] not in TRAINING_ONLY:
            (site / entry.name).symlink_to(entry)
    boot = (
        f"import runpy, site, sys; site.addsitedir({str(site)!r}); module = sys.argv.pop(1); "
        "sys.argv[0] = module; runpy.run_module(module, run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-S", "-c", boot]


def _run(python: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*python, "housecoder", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_the_environment_lacks_the_training_stack(without_torch: list[str], tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import importlib.util, housecoder.cli\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if importlib.util.find_spec(m)))\n"
    )
    ran = subprocess.run([*without_torch, "probe"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "[]", ran.stderr


def test_pull_index_complete_and_serve_without_torch(
    without_torch: list[str], shop: Path, tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    gguf = write_qwen2_gguf(tiny_qwen_dir, tmp_path / "tiny.gguf")
    cache = tmp_path / "models"
    (shop / ".housecoder.toml").write_text(
        f'[models]\ncode_model = "{gguf}"\ncache_dir = "{cache}"\n'
        f'[index]\nlocation = "{tmp_path / "index"}"\n[completion]\nmax_ms = 0\n'
    )
    pulled = _run(without_torch, "models", "pull", cwd=shop)
    assert pulled.returncode == 0, pulled.stderr
    assert (cache / "all-minilm-l6-v2" / "model.onnx").is_file()  # written without torch
    indexed = _run(without_torch, "index", ".", cwd=shop)
    assert indexed.returncode == 0 and "chunks: 6" in indexed.stderr, indexed.stderr
    found = _run(without_torch, "search", "price with VAT for a country", "-k", "3", cwd=shop)
    assert found.returncode == 0 and "shop/pricing.py" in found.stdout, found.stderr
    completed = _run(without_torch, "complete", "shop/checkout.py:9:11", "--json", cwd=shop)
    assert completed.returncode == 0 and "shop/pricing.py" in completed.stdout, (
        completed.stderr
    )  # its context
    stats = _run(without_torch, "stats", ".", cwd=shop)
    assert stats.returncode == 0, stats.stderr
    train = _run(without_torch, "train", ".", cwd=shop)
    assert train.returncode == 1 and len(train.stderr.strip().splitlines()) == 1, train.stderr
    assert "torch is not installed; in the housecoder checkout: pip install -e '.[ml]'" in train.stderr

    async def serve() -> None:
        options: dict[str, Any] = {"models": {"cache_dir": str(cache), "code_model": str(gguf)}}
        async with running_server(shop, options, command=[*without_torch, "housecoder.server"]) as client:
            uri = client.open(shop / "shop" / "checkout.py")
            result = await client.inline(uri, 8, 11)
            assert isinstance(result, types.InlineCompletionList), client.stderr[-20:]
            status = await client.command("housecoder.status")
            assert status["runtime"] == "llama.cpp" and status["device"] == "cpu", status

    asyncio.run(asyncio.wait_for(serve(), 240))
