"""llama.cpp on the real default GGUF (slow): KV reuse gives the distribution of a cold run, saved states
serve a second file, cancellation stops within one token, a LoRA adapter changes the output and switches back.

`make setup` builds llama-cpp-python; in CI (CI=true) a missing build or model fails instead of skipping.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from housecoder.config import InferenceConfig, InferenceTuning, Settings
from housecoder.inference.base import Cancellation, GenerationRequest
from housecoder.prompt import build_fim_prompt

pytestmark = pytest.mark.slow
IN_CI = os.environ.get("CI") == "true"


def _default_gguf() -> Path:
    from housecoder.completion.loading import gguf_of
    from housecoder.models.errors import ModelError
    from housecoder.models.store import store_for

    try:
        resolved = store_for(Settings()).resolve("qwen2.5-coder-1.5b-instruct", "code", pull=False)
    except ModelError as err:
        if IN_CI:
            raise
        pytest.skip(f"default model not pulled: {err}")
    gguf = gguf_of(resolved.path)
    assert gguf is not None
    return gguf


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    from housecoder.inference.llamacpp_backend import LlamaCppBackend, llama_cpp_available

    if not llama_cpp_available() and not IN_CI:
        pytest.skip("llama-cpp-python is not installed (make setup builds it)")
    loaded = LlamaCppBackend(
        _default_gguf(),
        InferenceConfig(
            tuning=InferenceTuning(kv_cache_entries=3, prefill_chunk_tokens=16, context_tokens=1024)
        ),
    )
    yield loaded
    loaded.close()


# The asserted completions are no near ties on either CPU path: scripts/logit_margins.py gives each test's
# decisive logit margins (docs/guide/development.md has the figures on AVX-512 and AVX2 builds).
CONFIG = 'import json\n\n\ndef load_config(path):\n    """Return the JSON object in the file at `path`."""\n    with open(path) as f:\n        '
OPEN_BEFORE = "import json\n\n\ndef load_config(path):\n    with open("
OPEN_AFTER = ") as f:\n        return json.load(f)\n"
PRICES = "def price_with_vat(net_cents: int, country: str) -> int:\n    rate = VAT[country]\n    "


def _typing(prefix: str, typed: str, path: str) -> list[str]:
    return [
        build_fim_prompt(prefix=prefix + typed[:n], suffix="\n", path=path, repo_name="r")
        for n in range(len(typed) + 1)
    ]


def test_reuse_computes_the_same_distribution_as_a_cold_run(backend) -> None:  # type: ignore[no-untyped-def]
    """llama.cpp's numbers depend on batch shapes (a cold run in chunks of 16 and one in chunks of 512
    differ by up to ~0.6 in a logit here), so exact token equality is not a property of llama.cpp itself;
    stale or misplaced keys would be off by whole units and change the ranking."""
    prompts = (
        _typing(CONFIG, "return js", "cfg.py")
        + _typing(PRICES, "return", "pricing.py")
        + _typing(CONFIG, "ret", "cfg.py")
    )
    reused = []
    for prompt in prompts:
        request = GenerationRequest(prompt, max_new_tokens=1)
        hot = backend.generate(request)
        hot_logits = backend.last_logits()
        backend._forget()
        cold = backend.generate(request)
        cold_logits = backend.last_logits()
        assert cold.reused_tokens == 0
        reused.append(hot.reused_tokens / hot.prompt_tokens)
        assert float(np.abs(hot_logits - cold_logits).max()) < 1.5, prompt
        assert int(hot_logits.argmax()) in np.argsort(cold_logits)[-3:], prompt
    assert sorted(reused)[len(reused) // 4] > 0.8  # most keystrokes reuse most of the prompt
    first = backend.generate(GenerationRequest(_typing(CONFIG, "", "cfg.py")[0], max_new_tokens=10))
    assert first.text.startswith("return json.load(f)")


def test_a_second_file_is_served_from_a_saved_state(backend) -> None:  # type: ignore[no-untyped-def]
    config, prices = _typing(CONFIG, "re", "cfg.py"), _typing(PRICES, "ret", "pricing.py")
    backend._forget()
    backend.generate(GenerationRequest(config[0], max_new_tokens=1))
    # another file: the first one's KV is saved
    backend.generate(GenerationRequest(prices[0], max_new_tokens=1))
    back = backend.generate(GenerationRequest(config[-1], max_new_tokens=1))
    # all but the cursor's tokens (typing re-splits the indentation before it) and the suffix
    assert back.reused_tokens >= back.prompt_tokens - 6
    again = backend.generate(GenerationRequest(prices[-1], max_new_tokens=1))
    assert again.reused_tokens >= again.prompt_tokens - 6


def test_cancellation_stops_within_one_token(backend) -> None:  # type: ignore[no-untyped-def]
    cancel = Cancellation()
    seen: list[str] = []

    def on_text(text: str) -> None:
        seen.append(text)
        if len(seen) == 2:
            cancel.cancel()

    prompt = build_fim_prompt(prefix="def fibonacci(n):\n", suffix="", path="f.py", repo_name="r")
    result = backend.generate(GenerationRequest(prompt, max_new_tokens=40, on_text=on_text), cancel)
    assert result.stopped_by == "cancelled" and result.new_tokens == 2


def test_without_end_of_text_the_model_writes_on_past_where_it_would_stop(backend) -> None:  # type: ignore[no-untyped-def]
    prompt = build_fim_prompt(prefix=OPEN_BEFORE, suffix=OPEN_AFTER, path="cfg.py", repo_name="r")
    ended = backend.generate(GenerationRequest(prompt, max_new_tokens=24))
    assert ended.stopped_by == "eos" and ended.text == "path, 'r'"
    going = backend.generate(GenerationRequest(prompt, max_new_tokens=24, end_of_text=False))
    assert going.stopped_by == "length" and going.new_tokens == 24
    assert going.text.startswith(ended.text) and len(going.text) > len(ended.text) and "<|" not in going.text


def _random_adapter(out: Path, layers: int, hidden: int, kv: int, seed: int) -> Path:
    """A peft-format LoRA (r=8 on q and v of every layer) with random A and B, as `housecoder train` saves one."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    tensors = {}
    for layer in range(layers):
        for module, width in (("q_proj", hidden), ("v_proj", kv)):
            base = f"base_model.model.model.layers.{layer}.self_attn.{module}"
            tensors[f"{base}.lora_A.weight"] = rng.normal(0, 0.05, (8, hidden)).astype(np.float32)
            tensors[f"{base}.lora_B.weight"] = rng.normal(0, 0.05, (width, 8)).astype(np.float32)
    out.mkdir(parents=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "r": 8, "lora_alpha": 64, "target_modules": ["q_proj", "v_proj"]}
    (out / "adapter_config.json").write_text(json.dumps(config))
    return out


def test_adapter_changes_the_output_and_switches_back(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend.cache_root = tmp_path
    request = GenerationRequest(_typing(CONFIG, "", "cfg.py")[0], max_new_tokens=12)
    base = backend.generate(request)
    adapter = _random_adapter(tmp_path / "adapter", layers=28, hidden=1536, kv=256, seed=1)
    backend.set_adapter(adapter)
    tuned = backend.generate(request)
    assert backend.adapter == adapter and tuned.reused_tokens == 0
    assert tuned.text != base.text
    assert list((tmp_path / "lora-gguf").glob("*.gguf"))  # converted once, cached by content
    backend.set_adapter(None)
    again = backend.generate(request)
    assert backend.adapter is None and again.reused_tokens == 0 and again.text == base.text


def test_loading_keeps_stdout_open_for_other_threads(backend) -> None:  # type: ignore[no-untyped-def]
    """The server's LSP stream is stdout: a message written while a model loads must not vanish."""
    import subprocess
    import sys

    script = (
        "import os, sys, threading, time\n"
        "from pathlib import Path\n"
        "from housecoder.config import InferenceConfig, InferenceTuning\n"
        "from housecoder.inference.llamacpp_backend import LlamaCppBackend\n"
        "done = threading.Event()\n"
        "def tick():\n"
        "    n = 0\n"
        "    while not done.is_set():\n"
        "        os.write(1, b'tick\\n'); n += 1; time.sleep(0.002)\n"
        "    os.write(1, f'sent {n}\\n'.encode())\n"
        "thread = threading.Thread(target=tick); thread.start()\n"
        "LlamaCppBackend(Path(sys.argv[1]), InferenceConfig(tuning=InferenceTuning(context_tokens=512)))\n"
        "done.set(); thread.join()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(backend.path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    sent = int(lines[-1].split()[1])
    assert sent > 10 and lines[:-1].count("tick") == sent  # every write arrived, none went to /dev/null


def test_the_vocabulary_holds_every_tokens_whole_bytes(backend) -> None:  # type: ignore[no-untyped-def]
    """Qwen has 240 tokens over 32 bytes (runs of spaces, dashes), which llama-cpp-python's detokenize cuts."""
    pieces = backend.vocabulary.pieces
    longest = max(pieces, key=len)
    assert longest == b" " * 128
    indent = " " * 40 + "return x"
    assert b"".join(pieces[token] for token in backend.tokenize(indent)).decode() == indent


HEALING = [
    (
        "import os\n\n\ndef get_default_model_settings():\n    return {}\n\n\ndef main():\n",
        "    settings = get_defaul",
        "\n",
        "t_model_settings()",
    ),  # mid-word: healed back to the word's start
    (
        "import json\n\n\ndef load_config(path):\n    with open(path) as f:\n",
        "        return json.",
        "\n",
        "load(f)",
    ),
    ("def is_even(n):\n", "    return n % 2 =", "\n", "= 0"),  # a partial operator
]


@pytest.mark.parametrize(("before", "typed", "after", "expected"), HEALING)
def test_line_start_layout_with_healing_continues_the_typed_text(
    backend,
    before: str,
    typed: str,
    after: str,  # type: ignore[no-untyped-def]
    expected: str,
) -> None:
    prompt = build_fim_prompt(prefix=before, suffix=after, middle=typed)
    generation = backend.generate(GenerationRequest(prompt, 16, single_line=True, typed=typed, heal_tokens=4))
    assert generation.text == expected


GREET_SUFFIX = ") -> str:\n    return f'{greeting}, {name}'\n"


def test_after_a_typed_space_the_model_does_not_write_another(backend) -> None:  # type: ignore[no-untyped-def]
    typed = "def greet(name: str, greeting: "
    prompt = build_fim_prompt(prefix="", suffix=GREET_SUFFIX, middle=typed)
    healed = backend.generate(GenerationRequest(prompt, 12, single_line=True, typed=typed, heal_tokens=4))
    assert healed.text and not healed.text.startswith(" ")


def test_the_prefill_rate_is_measured_on_the_prefills_the_model_runs(backend) -> None:  # type: ignore[no-untyped-def]
    from housecoder.inference.prefill_rate import PrefillRate

    backend.prefill_meter = PrefillRate(min_tokens=16)  # the test's prompts are short
    assert backend.prefill_rate() is None
    for n in range(3):  # another file each time: most of each prompt is new
        prompt = build_fim_prompt(
            prefix=f"# file {n}\n" + CONFIG * 3, suffix="\n", path=f"m{n}.py", repo_name="r"
        )
        backend.generate(GenerationRequest(prompt, 0))
    rate = backend.prefill_rate()
    assert rate is not None and rate > 0 and backend.describe()["prefill_tokens_per_s"] == rate
