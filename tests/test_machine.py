"""Usable cores on any system: the affinity where Linux has one, every core where macOS and Windows have none."""

from __future__ import annotations

import os

import pytest

from housecoder.machine import usable_cores


def test_without_an_affinity_call_every_core_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # as on macOS and Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 10)
    assert usable_cores() == 10
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one
    assert usable_cores() == 1


def test_the_affinity_wins_where_the_system_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cores() == 2
