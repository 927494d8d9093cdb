"""What the sessions of one server process share: the model thread, the loaded models and the idle job.

Over stdio a server has one session and so one host. Over TCP every connection
is its own session (its own documents, settings, completions and caches) and all
share one host: requests of every client queue on one model thread instead of
competing for the cores, and clients that want the same model (same model and
inference settings, same workspace folders, hence the same adapter) share one
loaded copy. A model no session uses any more is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Shared:
    future: Future[Any]
    users: set[int] = field(default_factory=set)


class ModelHost:
    """One model thread plus the models loaded on it, keyed by what decides the model, shared by users
    (sessions, by `id`). `lock` guards `idle`: the idle job of any user, cancelled by any user's request."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="housecoder-model")
        self.lock = threading.Lock()
        self.idle: Any = None
        self._models: dict[Hashable, _Shared] = {}

    def acquire(self, user: object, key: Hashable, load: Callable[[], Any]) -> Future[Any]:
        """The model for `key`, loading it on the model thread unless it is loaded or loading already (a
        failed load is tried again); `user` gives up any other model it held."""
        with self.lock:
            self._drop(id(user), keep=key)
            shared = self._models.get(key)
            failed = shared is not None and shared.future.done() and shared.future.exception() is not None
            if shared is None or failed:
                shared = self._models[key] = _Shared(
                    self.pool.submit(load), set() if shared is None else shared.users
                )
            shared.users.add(id(user))
            return shared.future

    def release(self, user: object) -> None:
        """`user` is gone: models nobody else uses are dropped (freed once their last job is done)."""
        with self.lock:
            self._drop(id(user), keep=None)

    def users(self, key: Hashable) -> int:
        with self.lock:
            shared = self._models.get(key)
            return len(shared.users) if shared else 0

    def _drop(self, user: int, keep: Hashable | None) -> None:
        for key in [key for key, shared in self._models.items() if key != keep and user in shared.users]:
            self._models[key].users.discard(user)
            if not self._models[key].users:
                del self._models[key]

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
