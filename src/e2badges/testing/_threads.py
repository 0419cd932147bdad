"""Run work in several threads at once, for the conformance suite's concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

__all__ = ["run_in_threads"]

_A = TypeVar("_A")


def run_in_threads(work: Callable[[_A], object], args: Iterable[_A]) -> None:
    """Run ``work(arg)`` for each of ``args`` in a thread of its own, all at once.

    Returns when every thread has ended; raises the first exception a thread
    raised (in the caller's thread, where pytest reports it), after all ended.
    """
    errors: list[BaseException] = []

    def run(arg: _A) -> None:
        try:
            work(arg)
        except BaseException as exc:  # reported below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
