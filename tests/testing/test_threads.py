"""The conformance suite's thread runner reports what a thread raised."""

from __future__ import annotations

import threading

import pytest

from e2badges.testing._threads import run_in_threads


def test_every_argument_runs_in_a_thread_of_its_own() -> None:
    seen: dict[int, int] = {}
    run_in_threads(lambda n: seen.setdefault(n, threading.get_ident()), range(4))
    assert sorted(seen) == [0, 1, 2, 3]
    assert threading.get_ident() not in seen.values()


def test_a_failure_in_a_thread_is_raised_after_all_ended() -> None:
    ended: list[int] = []

    def work(n: int) -> None:
        if n == 1:
            raise ValueError("thread 1")
        ended.append(n)

    with pytest.raises(ValueError, match="thread 1"):
        run_in_threads(work, range(3))
    assert sorted(ended) == [0, 2]
