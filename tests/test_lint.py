"""Asserts that cannot fail, found in the tests' syntax (issue 25, part 6).

``np.testing.assert_allclose(a, b) and np.testing.assert_allclose(c, d)`` checks only ``a``: an ``assert_*`` function
returns None, so ``and`` never evaluates the second (``or`` always does, which reads as if it might not). ``assert
<constant>`` and ``assert (condition, "message")`` (a non-empty tuple) always pass. A ``with pytest.raises(...)``
block of several statements passes as soon as the first raises: the ones after it never run, and what raised may
not be what the test means.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _name(node: ast.expr) -> str:
    """The called name: ``assert_allclose`` of ``np.testing.assert_allclose``, ``raises`` of ``pytest.raises``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _is_assert_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _name(node.func).startswith("assert")


def _truth(test: ast.expr) -> bool | None:
    """The truth of a test that does not depend on anything the test computes (None: it does)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        operand = _truth(test.operand)
        return None if operand is None else not operand
    if isinstance(test, (ast.Tuple, ast.List, ast.Set)) and test.elts:  # a non-empty display, whatever is in it
        return True
    try:
        return bool(ast.literal_eval(test))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def findings(source: str, filename: str) -> list[str]:
    """``file:line: why`` for each assert in ``source`` that cannot fail as written."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.BoolOp) and any(_is_assert_call(value) for value in node.values):
            found.append((node.lineno, "an assert_* call inside `and`/`or` (it returns None): write one statement "
                                       "per check"))
        elif isinstance(node, ast.Assert) and _truth(node.test):  # `assert False` fails: it is left alone
            found.append((node.lineno, "`assert` on a constant or a non-empty tuple always passes"))
        elif isinstance(node, (ast.With, ast.AsyncWith)) and len(node.body) > 1 and any(
                isinstance(item.context_expr, ast.Call) and _name(item.context_expr.func) in ("raises", "warns")
                for item in node.items):
            found.append((node.lineno, "a pytest.raises/warns block of several statements: those after the one "
                                       "that raises never run"))
    return [f"{filename}:{line}: {why}" for line, why in sorted(found)]


def test_no_test_has_an_assert_that_cannot_fail():
    found = [finding for path in sorted(TESTS.glob("*.py"))
             for finding in findings(path.read_text(), str(path.relative_to(TESTS.parent)))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(("source", "line"), [
    ("import numpy as np\nnp.testing.assert_allclose(a, 1) and np.testing.assert_allclose(b, 2)\n", 2),
    ("assert_array_equal(a, b) or assert_array_equal(c, d)\n", 1),
    ("x = 1\n\nok and np.testing.assert_equal(a, b)\n", 3),
    ("assert True\n", 1),
    ("assert 'always'\n", 1),
    ("assert (a == b, 'message')\n", 1),
    ("assert not None\n", 1),
    ("assert not ()\n", 1),
    ("with pytest.raises(ValueError):\n    f()\n    g()\n", 1),
])
def test_the_lint_finds_each_pattern_and_names_file_and_line(source, line):
    (found,) = findings(source, "tests/test_x.py")
    assert found.startswith(f"tests/test_x.py:{line}: ")


@pytest.mark.parametrize("source", [
    "np.testing.assert_allclose(a, 1)\nnp.testing.assert_allclose(b, 2)\n",
    "assert a and b\n",
    "assert (a, b) == (1, 2)\n",
    "assert not a\n",
    "assert False, 'unreachable'\n",
    "with pytest.raises(ValueError, match='x'):\n    f()\nassert g()\n",
    "with open(p) as f:\n    a = f.read()\n    b = a\n",
])
def test_the_lint_leaves_asserts_that_can_fail_alone(source):
    assert findings(source, "tests/test_x.py") == []
