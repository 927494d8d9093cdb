"""A small repository for the evaluation and benchmark tests (the `geometry_repo` fixture, loaded by the root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

GEOMETRY = '''"""Shapes."""

import math


def area(width, height):
    """The area of a rectangle."""
    checked = max(width, 0)
    result = checked * max(height, 0)
    return result


def perimeter(width, height):
    total = 2 * (width + height)
    return total


class Circle:
    def __init__(self, radius):
        self.radius = radius
        self.name = "circle"

    def size(self):
        return math.pi * self.radius ** 2
'''

REPORT = '''"""Reports."""

from pkg.geometry import Circle, area, perimeter


def describe(width, height):
    # a comment line is never a task
    surface = area(width, height)
    edge = perimeter(width, height)
    label = f"{surface} / {edge}"
    else_branch = None
    return label


def circles(radii):
    shapes = [Circle(r) for r in radii]
    sizes = [shape.size() for shape in shapes]
    pass
    return sum(sizes)
'''


@pytest.fixture
def geometry_repo(tmp_path: Path) -> Path:
    """Two Python files that call each other, a file holding a secret and an ignored build folder."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "pkg" / "report.py").write_text(REPORT)
    # a secret
    (root / "pkg" / "keys.py").write_text('KEY = "AKIAABCDEFGHIJKLMNOP"\nother_value = compute_other(KEY)\n')
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("x = 1\nignored_value = area(1, 2)\n")
    (root / ".gitignore").write_text("build/\n")
    return root
