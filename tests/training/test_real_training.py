"""The real default model trains one LoRA step on a small repository, and the adapter it writes is
registered for that base and is served by llama.cpp (slow: 1.5B parameters on CPU, in bf16 or in fp32 as
`train.mixed_precision = auto` picks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from housecoder.config import Settings
from housecoder.models.catalog import QWEN_CODER_1_5B


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_one_real_step_gives_an_adapter_llama_cpp_serves(inventory_repo: Path, tmp_path: Path) -> None:
    from housecoder.completion import CompletionEngine, CompletionInput
    from housecoder.completion.loading import load_backend
    from housecoder.models.adapters import best_adapter, read_adapter
    from housecoder.training.job import TrainJob

    # train.mixed_precision = auto: bf16 autocast on a CPU with bf16 instructions, float32 weights elsewhere (one
    # real LoRA step in emulated bf16 took over ten minutes on 2 AVX2 cores)
    settings = Settings.model_validate(
        {
            "index": {"location": str(tmp_path / "index")},
            "completion": {"max_new_tokens": 12},
            "train": {
                "steps": 1,
                "output": str(tmp_path / "adapters"),
                "tuning": {
                    "max_samples": 8,
                    "eval_samples": 4,
                    "grad_accum": 2,
                    "eval_every": 1,
                    "generate_samples": 2,
                    "held_out_fraction": 0.3,
                },
            },
        }
    )
    job = TrainJob(inventory_repo, settings)
    outcome = job.run()
    info = read_adapter(outcome.run_dir)
    assert info is not None and info.base_fingerprint == QWEN_CODER_1_5B.sha256
    loss = outcome.metrics.held_out_loss
    assert 0 < loss.after < 10 and 0 < loss.before < 10
    assert outcome.metrics.held_out.before.tasks == 2 and outcome.metrics.held_out.after.tasks == 2
    if outcome.beat_base:
        assert best_adapter(settings, inventory_repo, QWEN_CODER_1_5B.sha256) == info

    served = Settings.model_validate(
        settings.model_dump()
        | {
            "models": {**settings.models.model_dump(), "adapter": str(outcome.run_dir)},
            "inference": {"runtime": "llama.cpp"},
        }
    )
    backend = load_backend(served)
    assert backend.adapter == outcome.run_dir
    text = "def with_vat(net_cents, country):\n    rate = VAT.get(country, 0)\n    "
    output = CompletionEngine(backend, served, repo_name=None).complete(
        CompletionInput("p.py", text, len(text), "python", explicit=True)  # whatever the keep gate thinks
    )
    assert output.stopped_by != "cancelled" and output.prompt_tokens > 10 and output.text.strip()
