"""Running a piece of storage work again after a failure a retry may cure."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from ._errors import TransientStorageError

__all__ = ["retry_transient"]

_T = TypeVar("_T")


def retry_transient(work: Callable[[], _T], attempts: int) -> _T:
    """Return ``work()``, run again after each TransientStorageError, ``attempts`` times in all.

    ``work`` must leave nothing behind when it raises TransientStorageError (the
    store rolled its transaction back), so running it again is safe.  Between
    attempts it sleeps a random while that grows with each attempt (at most
    0.2 s), so that two transactions that deadlocked do not meet again in step.
    The last attempt's error goes through.
    """
    attempt = 1
    while True:
        try:
            return work()
        except TransientStorageError:
            if attempt >= attempts:
                raise
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            attempt += 1
