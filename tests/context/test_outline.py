"""Long definitions shortened to their outline: signatures, docstring heads and members, bodies elided."""

from __future__ import annotations

import pytest

from housecoder.context.outline import outline

PY_CLASS = '''class NoArgsIsHelpError(UsageError):
    """Raised when no arguments are given.

    More text here.
    """

    exit_code = 2

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        super().__init__(
            ctx.get_help(), ctx=ctx
        )

    @property
    def name(
        self,
    ) -> str:
        # a comment
        return "x"

    def show(self, file=None) -> None:
        """Print the help."""
        echo(self.ctx.get_help(), file=file)'''

PY_CLASS_OUTLINE = '''class NoArgsIsHelpError(UsageError):
    """Raised when no arguments are given."""
    exit_code = 2
    def __init__(self, ctx: Context) -> None: ...
    @property
    def name(
        self,
    ) -> str: ...
    def show(self, file=None) -> None: ...'''

PY_FUNCTION = '''@cache
def get_current_context(silent: bool = False) -> Context | None:
    """
    Returns the current click context.
    """
    try:
        return t.cast("Context", _local.stack[-1])
    except (AttributeError, IndexError) as e:
        if not silent:
            raise RuntimeError("There is no active click context.") from e
    return None'''

JAVA_CLASS = """public class Store {
    private final List<Item> items;

    public Store(List<Item> items) {
        this.items = items;
        check(items);
    }

    // the sum with tax
    public int total(
        int tax) {
        int t = 0;
        for (Item i : items) { t += i.price; }
        return t + tax;
    }
}"""


@pytest.mark.parametrize(
    ("text", "kind", "max_lines", "expected"),
    [
        (PY_CLASS, "class", 12, PY_CLASS_OUTLINE),
        (PY_CLASS, "class", 40, PY_CLASS),  # short enough: whole
        (
            PY_FUNCTION,
            "function",
            6,
            "@cache\ndef get_current_context(silent: bool = False) -> Context | None:\n"
            '    """Returns the current click context."""\n    ...',
        ),
        ("def f(x):\n    y = x + 1\n    z = y * 2\n    return z", "function", 2, "def f(x): ..."),
        (
            JAVA_CLASS,
            "class",
            10,
            "public class Store {\n    private final List<Item> items;\n"
            "    public Store(List<Item> items) { ... }\n    public int total(\n        int tax) { ... }\n}",
        ),
        (
            "/// Sums.\n#[inline]\nfn total(items: &[u32]) -> u32 {\n    let mut t = 0;\n    for i in items { t += i; }\n    t\n}",
            "function",
            3,
            "/// Sums.\n#[inline]\nfn total(items: &[u32]) -> u32 { ... }",
        ),
        (
            "function total(items) {\n  let t = 0;\n  return t;\n}",
            "method",
            2,
            "function total(items) { ... }",
        ),
        (
            "class Empty:\n    pass\n    pass",
            "class",
            1,
            "class Empty:\n    pass\n    pass",
        ),  # members, no bodies to cut
    ],
)
def test_outline(text: str, kind: str, max_lines: int, expected: str) -> None:
    assert outline(text, kind, max_lines) == expected
