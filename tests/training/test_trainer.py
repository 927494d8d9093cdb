"""The training loop on the tiny model: the held-out loss falls on data it fits, the best adapter is kept,
early stop, and a resumed run ends with the very weights of an uninterrupted one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from settings_fixture import section

from housecoder.config import TrainConfig, TrainTuning
from housecoder.training.data import IGNORE, Encoded
from housecoder.training.trainer import (
    BEST,
    CHECKPOINT,
    STEPS,
    TRAINED_FILE,
    Trainer,
    TrainState,
    lora_config,
    total_steps,
)


def _peft(tiny_qwen_dir: Path) -> Any:
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    return get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_qwen_dir), lora_config(_config()))


def _config(**changes: Any) -> TrainConfig:
    base = {
        "rank": 4,
        "alpha": 8,
        "dropout": 0.0,
        "learning_rate": 2e-2,
        "warmup_steps": 0,
        "steps": 6,
        "grad_accum": 2,
        "eval_every": 2,
        "checkpoint_every": 2,
        "patience": 3,
        "mixed_precision": "no",
        "seed": 1,
    }
    return TrainConfig.model_validate(section("train", base | changes))


DATA = [
    Encoded([5, 6, 7, 8, 9, 10], [IGNORE, IGNORE, IGNORE, 8, 9, 10]),
    Encoded([11, 12, 13, 14], [IGNORE, IGNORE, 13, 14]),
    Encoded([20, 21, 22, 23, 24], [IGNORE, IGNORE, 22, 23, 24]),
    Encoded([30, 31, 32], [IGNORE, 31, 32]),
]


def _weights(model: Any) -> dict[str, Any]:
    return {name: tensor.detach().clone() for name, tensor in model.named_parameters() if "lora_" in name}


def test_steps_from_epochs_or_explicit() -> None:
    assert total_steps(TrainConfig(epochs=1.0, tuning=TrainTuning(grad_accum=8, batch_size=1)), 400) == 50
    assert total_steps(TrainConfig(epochs=2.5, tuning=TrainTuning(grad_accum=8, batch_size=2)), 100) == 18
    assert total_steps(TrainConfig(steps=7), 400) == 7


def test_training_lowers_the_held_out_loss_and_keeps_the_best_adapter(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    model = _peft(tiny_qwen_dir)
    trainer = Trainer(model, _config(), tmp_path, pad=0, device="cpu")
    from housecoder.training.trainer import held_out_loss, held_out_losses

    before = held_out_loss(model, DATA, 0, "cpu", trainer.accelerator.autocast)
    each = held_out_losses(model, DATA, 0, "cpu", trainer.accelerator.autocast)
    assert [count for _, count in each] == [3, 2, 3, 2]  # every middle token once
    assert sum(total for total, _ in each) / 10 == pytest.approx(before)
    result = trainer.train(DATA, DATA, initial_loss=before)
    checks = [h["eval_loss"] for h in result.state.history if h["eval_loss"] is not None]
    assert len(checks) == 3 and result.state.step == 6
    assert result.state.best_loss is not None and result.state.best_loss < before
    assert result.best_dir == tmp_path / BEST and (tmp_path / BEST / "adapter_model.safetensors").is_file()
    assert (tmp_path / CHECKPOINT / "trainer.pt").is_file() and (tmp_path / "history.json").is_file()


def test_time_paused_for_typing_is_not_training_time(
    tiny_qwen_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from housecoder.training import trainer as trainer_module

    clock = {"now": 0.0, "paused": 0.0}

    def tick() -> float:  # every reading of the clock: one second of training
        clock["now"] += 1.0
        return clock["now"]

    def pace() -> None:  # before every micro-step the user types: a 30 s pause
        clock["now"] += 30.0
        clock["paused"] += 30.0

    monkeypatch.setattr(trainer_module, "time", SimpleNamespace(perf_counter=tick))
    steps: list[Any] = []
    trainer = Trainer(_peft(tiny_qwen_dir), _config(), tmp_path, pad=0, device="cpu")
    result = trainer.train(
        DATA, DATA, initial_loss=99.0, pace=pace, paused=lambda: clock["paused"], on_step=steps.append
    )
    micro_steps = result.state.step * 2  # grad_accum 2
    assert result.state.paused_s == 30.0 * micro_steps
    # the clock's own seconds only, whatever the pauses: a few readings per step
    assert 0 < result.state.elapsed_s <= 4 * result.state.step
    assert all(log.samples_per_s >= 2 / 4 for log in steps)
    assert steps[-1].elapsed_s <= result.state.elapsed_s


def test_early_stop_after_patience_checks_without_gain(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    trainer = Trainer(
        _peft(tiny_qwen_dir), _config(steps=20, eval_every=1, patience=2), tmp_path, pad=0, device="cpu"
    )
    result = trainer.train(DATA, DATA, initial_loss=0.0)  # nothing beats a loss of 0
    assert result.state.stopped_early and result.state.step == 2 and result.best_dir is None


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    whole = _peft(tiny_qwen_dir)
    Trainer(whole, _config(), tmp_path / "whole", pad=0, device="cpu").train(DATA, DATA, initial_loss=99.0)

    first = _peft(tiny_qwen_dir)
    stopped: list[int] = []

    def interrupt(log: Any) -> None:
        stopped.append(log.step)
        if log.step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(first, _config(), tmp_path / "split", pad=0, device="cpu").train(
            DATA, DATA, initial_loss=99.0, on_step=interrupt
        )
    second = _peft(tiny_qwen_dir)  # a fresh process: new LoRA weights, restored from the step-4 checkpoint
    result = Trainer(second, _config(), tmp_path / "split", pad=0, device="cpu").train(
        DATA, DATA, resume=True
    )
    assert stopped == [1, 2, 3, 4, 5] and result.state.step == 6
    assert [h["step"] for h in result.state.history] == [1, 2, 3, 4, 5, 6]
    expected, got = _weights(whole), _weights(second)
    assert expected.keys() == got.keys()
    for name in expected:
        assert (expected[name] - got[name]).abs().max() < 1e-5, name


def test_kept_checkpoints_make_a_learning_curve_at_a_constant_rate(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    import json

    config = _config(schedule="constant", warmup_steps=2, keep_checkpoints=True)
    result = Trainer(_peft(tiny_qwen_dir), config, tmp_path, pad=0, device="cpu").train(
        DATA, DATA, initial_loss=99.0
    )
    rates = [h["learning_rate"] for h in result.state.history]
    assert rates[0] < rates[1] == rates[-1] == config.tuning.learning_rate  # warm-up, then held
    kept = sorted((tmp_path / STEPS).iterdir())
    assert [folder.name for folder in kept] == ["00002", "00004", "00006"]
    trained = [json.loads((folder / TRAINED_FILE).read_text()) for folder in kept]
    # two micro-steps of one sequence each per step; every token of a sequence counts, none of the padding
    assert [t["samples"] for t in trained] == [4, 8, 12]
    assert trained[-1]["tokens"] == result.state.tokens_seen == result.state.history[-1]["tokens_seen"]
    assert 0 < trained[0]["tokens"] < trained[1]["tokens"] < trained[2]["tokens"] <= 12 * 6
    assert all((folder / "adapter_model.safetensors").is_file() for folder in kept)
    cosine = Trainer(_peft(tiny_qwen_dir), _config(), tmp_path / "cosine", pad=0, device="cpu")
    decayed = cosine.train(DATA, DATA, initial_loss=99.0).state.history
    assert (
        decayed[-1]["learning_rate"] < decayed[0]["learning_rate"]
        and not (tmp_path / "cosine" / STEPS).exists()
    )


def _poison(model: Any, token: int) -> None:
    """Make `model`'s embeddings NaN for any batch that holds `token` (a planted overflow)."""

    def hook(_module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        return output * float("nan") if bool((inputs[0] == token).any()) else output

    model.get_input_embeddings().register_forward_hook(hook)


def test_a_step_with_a_non_finite_loss_is_skipped_and_leaves_the_weights_finite(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    import torch

    model = _peft(tiny_qwen_dir)
    _poison(model, 30)  # DATA[3]: one micro-step of one optimiser step in each pass
    result = Trainer(model, _config(steps=6), tmp_path, pad=0, device="cpu").train(
        DATA, DATA, initial_loss=99.0
    )
    skipped = [h for h in result.state.history if h["skipped"]]
    assert result.state.step == 6 and 1 <= result.state.skipped_steps == len(skipped) < 6
    assert all(torch.isfinite(w).all() for w in _weights(model).values())
    trained = [h for h in result.state.history if not h["skipped"]]
    assert all(h["loss"] == h["loss"] for h in trained)  # not NaN: the good steps trained on good batches


def test_a_run_whose_every_step_is_non_finite_stops_with_a_message(
    tiny_qwen_dir: Path, tmp_path: Path
) -> None:
    from housecoder.training.errors import Diverged
    from housecoder.training.trainer import MAX_SKIPPED_IN_A_ROW

    model = _peft(tiny_qwen_dir)
    before = _weights(model)
    for token in (5, 11, 20, 30):  # every sequence of DATA
        _poison(model, token)
    trainer = Trainer(model, _config(steps=20, eval_every=50), tmp_path, pad=0, device="cpu")
    with pytest.raises(Diverged, match=f"{MAX_SKIPPED_IN_A_ROW} optimiser steps in a row"):
        trainer.train(DATA, DATA, initial_loss=99.0)
    after = _weights(model)
    assert all(bool((before[name] == after[name]).all()) for name in before)


def test_resume_without_a_checkpoint_says_so(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    from housecoder.training.errors import NoCheckpoint

    with pytest.raises(NoCheckpoint, match="no checkpoint to resume from"):
        Trainer(_peft(tiny_qwen_dir), _config(), tmp_path, pad=0, device="cpu").train(DATA, DATA, resume=True)
    assert TrainState().step == 0


def test_middle_loss_equals_the_full_logits_loss_on_a_padded_batch(tiny_qwen_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from housecoder.training.data import collate, middle_loss

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen_dir)
    batch = collate(DATA, pad_id=0)
    with torch.no_grad():
        assert float(middle_loss(model, batch)) == pytest.approx(float(model(**batch).loss), rel=1e-5)


def test_lora_layers_puts_lora_on_the_top_layers_only(tiny_qwen_dir: Path) -> None:
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_qwen_dir)
    layers = model.config.num_hidden_layers
    peft = get_peft_model(model, lora_config(_config(lora_layers=1), layers))
    touched = {
        int(name.split(".layers.")[1].split(".")[0])
        for name, _ in peft.named_parameters()
        if "lora_A" in name
    }
    assert touched == {layers - 1}
    assert lora_config(_config(lora_layers=layers + 3), layers).layers_to_transform is None


class _Planted:
    """A pickle that would write a file when loaded without `weights_only`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "ran"))


def test_a_planted_checkpoint_never_runs_code(tiny_qwen_dir: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from housecoder.training.errors import NoCheckpoint

    folder = tmp_path / CHECKPOINT
    folder.mkdir()
    save_file({"x": torch.zeros(1)}, str(folder / "adapter_model.safetensors"))
    marker = tmp_path / "ran.txt"
    torch.save({"state": _Planted(marker)}, folder / "trainer.pt")
    with pytest.raises(NoCheckpoint, match="not a checkpoint housecoder wrote"):
        Trainer(_peft(tiny_qwen_dir), _config(), tmp_path, pad=0, device="cpu").train(DATA, DATA, resume=True)
    assert not marker.exists()
