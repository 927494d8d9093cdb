"""Training that gives the CPU back while the user types.

`Pacer.pause_point` returns at once while the machine is idle, and blocks while a completion request came
within `idle_seconds` (`housecoder.activity`: the server marks every request). Background training calls it
between micro-steps and between held-out completions, and `install` makes every transformer layer call it
before its forward pass and before its backward pass, so a request that arrives in the middle of a
micro-step waits for one layer, not for the whole step. The model's state is left as it was: training picks up
where it paused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from housecoder.activity import seconds_since

POLL_S = 0.25  # how often a paused run looks at the activity file again
# transformer blocks: `model.layers.3` (Llama, Qwen), `transformer.h.3` (GPT-2), `encoder.layer.3` (BERT)
LAYER_NAME = re.compile(r"\.(layers|h|layer|blocks)\.\d+$")


@dataclass
class Pacer:
    activity: Path
    idle_seconds: float
    on_pause: Callable[[bool], None] = lambda _paused: None  # told when a pause starts and ends
    wait: Callable[[float], None] = time.sleep
    yields: list[float] = field(default_factory=list)  # seconds from each request to the pause it caused
    paused_s: float = 0.0

    def busy(self) -> float | None:
        """Seconds since the last request when it came within `idle_seconds`, else None."""
        since = seconds_since(self.activity)
        return since if since is not None and since < self.idle_seconds else None

    def pause_point(self) -> None:
        since = self.busy()
        if since is None:
            return
        self.yields.append(since)
        started = time.monotonic()
        self.on_pause(True)
        try:
            while self.busy() is not None:
                self.wait(POLL_S)
        finally:
            self.paused_s += time.monotonic() - started
            self.on_pause(False)

    def install(self, model: Any) -> list[Any]:
        """Pause points at every transformer layer of `model` (forward and backward); returns the hooks'
        handles (`handle.remove()` takes one off)."""

        def before_forward(_module: Any, _inputs: Any) -> None:
            self.pause_point()

        def after_forward(_module: Any, _inputs: Any, output: Any) -> None:
            hidden = output[0] if isinstance(output, tuple) else output
            if getattr(
                hidden, "requires_grad", False
            ):  # its gradient arrives when backward reaches this layer
                hidden.register_hook(lambda _grad: self.pause_point())

        handles = []
        for name, module in model.named_modules():
            if LAYER_NAME.search(name):
                handles.append(module.register_forward_pre_hook(before_forward))
                handles.append(module.register_forward_hook(after_forward))
        return handles

    def report(self) -> tuple[int, float]:
        """(how many times training yielded, the longest time from a request to the pause)."""
        return len(self.yields), max(self.yields, default=0.0)
