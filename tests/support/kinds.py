"""The four kinds of test, registered in pyproject.toml. Every test is of
exactly one kind, so that each kind can run alone (`pytest -m unit`, the
`make test-fast` of the developers), and collection fails on a test of no
kind or of two, or on a unit test that asks for the model or a server.

    unit     quick, with no trained model, widget build or server
    e2e      the real programs: the trained model, the Rasa and action
             servers, the staff command, Rasa's own commands
    cluster  needs PostgreSQL, Redis or nginx on this machine
    browser  the chat widgets in a headless Chromium
"""
from __future__ import annotations

from typing import List

import pytest

KINDS = ("unit", "e2e", "cluster", "browser")
# The fixtures that train the model, build the widget or start servers.
HEAVY_FIXTURES = {"trained_model", "assistant", "channels", "widget", "browser", "demo"}


def problems(item: pytest.Item) -> List[str]:
    kinds = sorted({mark.name for mark in item.iter_markers() if mark.name in KINDS})
    if not kinds:
        return [f"{item.nodeid}: no kind; mark it with one of {', '.join(KINDS)}"]
    if len(kinds) > 1:
        return [f"{item.nodeid}: two kinds ({', '.join(kinds)}); a test has exactly one"]
    heavy = sorted(HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())))
    if kinds == ["unit"] and heavy:
        return [f"{item.nodeid}: a unit test asks for {', '.join(heavy)}; mark it e2e"]
    return []


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: every collected test is checked
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    found = [problem for item in items for problem in problems(item)]
    if found:
        raise pytest.UsageError("tests of no kind or two (tests/support/kinds.py):\n  "
                                + "\n  ".join(found))
