"""Erasure on the memory store is all or nothing, as on the SQL store (one transaction).

A failure injected at an early, a middle or the last step of ``erase_person`` leaves
every public answer as it was before; the erasure then runs again to the same end as
one that never failed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from e2badges.storage import MemoryStore
from e2badges.storage import memory as memory_module
from e2badges.storage._adoption import StoryLog
from e2badges.testing._people_conformance import (
    ALICE,
    DAY,
    T0,
    _erased_pseudonym,
    _everything,
    _organisation,
    _record_organisation,
)


class Injected(Exception):
    pass


def _failing(real: Any, after: int) -> Any:
    """Return ``real``, wrapped to raise Injected on its call number ``after + 1``."""
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > after:
            raise Injected(real.__name__)
        return real(*args, **kwargs)

    return wrapper


def _erased(store: MemoryStore, ids: list[str]) -> str:
    """Return every answer after the erasure, the random pseudonym named alike, and the
    objects' stand-ins (digests of the pseudonym) by their order of appearance."""
    rewards = _organisation(store)
    pseudonym = _erased_pseudonym(store)
    found = _everything(rewards, store, ["bob", pseudonym], ids, T0 + 29 * DAY)
    stand_ins: dict[str, str] = {}

    def named(match: re.Match[str]) -> str:
        return stand_ins.setdefault(match[0], f"<stand-in {len(stand_ins)}>")

    return re.sub(r"erased-[0-9a-f]{64}", named, found.replace(pseudonym, "<pseudonym>"))


@pytest.mark.parametrize(
    ("where", "after"),
    [
        ("erase_activity", 0),  # early: the first activity
        ("erase_value", 3),  # the middle: the engine's state
        ("erase_row", 1),  # later: the board rows
        ("story_log", 0),  # the last steps: the stories
    ],
)
def test_a_failed_erasure_changes_nothing(
    where: str, after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    rewards = _organisation(store)
    activities = _record_organisation(rewards)
    ids = [a.id for a in activities] + ["g1", "g2", "g3"]
    users = ["bob", ALICE]
    before = _everything(rewards, store, users, ids, T0 + 9 * DAY)

    with monkeypatch.context() as patched:
        if where == "story_log":
            patched.setattr(StoryLog, "erase", _failing(StoryLog.erase, after))
        else:
            real = getattr(memory_module, where)
            patched.setattr(memory_module, where, _failing(real, after))
        with pytest.raises(Injected):
            rewards.erase_person(ALICE)

    # (A later time: the notifications the first call claimed are due again by then.)
    assert _everything(rewards, store, users, ids, T0 + 19 * DAY) == before
    # Run again, it ends where an erasure that never failed ends.
    rewards.erase_person(ALICE)
    reference = MemoryStore()
    _record_organisation(_organisation(reference))
    _organisation(reference).erase_person(ALICE)
    assert _erased(store, ids) == _erased(reference, ids)
