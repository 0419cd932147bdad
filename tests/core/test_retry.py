"""retry_transient: the one loop that runs storage work again after a transient failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from e2badges import StorageError, TransientStorageError
from e2badges._retry import retry_transient


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the back-off sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("e2badges._retry.time.sleep", slept.append)
    return slept


def failing(times: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    """Return a call log and work that raises ``error`` on its first ``times`` calls."""
    calls: list[int] = []

    def work() -> str:
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise error
        return f"done on call {len(calls)}"

    return calls, work


def test_runs_again_until_it_succeeds(sleeps: list[float]) -> None:
    calls, work = failing(2, TransientStorageError("deadlock"))
    assert retry_transient(work, 3) == "done on call 3"
    assert calls == [1, 2, 3]
    assert len(sleeps) == 2


def test_the_last_attempts_error_goes_through(sleeps: list[float]) -> None:
    calls, work = failing(5, TransientStorageError("deadlock"))
    with pytest.raises(TransientStorageError, match="deadlock"):
        retry_transient(work, 3)
    assert calls == [1, 2, 3]
    assert len(sleeps) == 2  # no sleep after the last attempt


def test_one_attempt_means_no_retry(sleeps: list[float]) -> None:
    calls, work = failing(1, TransientStorageError("deadlock"))
    with pytest.raises(TransientStorageError):
        retry_transient(work, 1)
    assert calls == [1]
    assert sleeps == []


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    calls, work = failing(1, StorageError("table missing"))
    with pytest.raises(StorageError, match="table missing"):
        retry_transient(work, 5)
    assert calls == [1]
    assert sleeps == []


def test_back_off_doubles_up_to_a_fifth_of_a_second(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each wait is drawn from [0, bound), the bound doubling from 10 ms up to 0.2 s."""
    bounds: list[tuple[float, float]] = []

    def upper(a: float, b: float) -> float:
        bounds.append((a, b))
        return b

    monkeypatch.setattr("e2badges._retry.random.uniform", upper)
    _, work = failing(8, TransientStorageError("deadlock"))
    with pytest.raises(TransientStorageError):
        retry_transient(work, 8)
    assert bounds == [(0, b) for b in (0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2)]
    assert sleeps == [0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2]


def test_back_off_is_random(sleeps: list[float]) -> None:
    """Two writers that deadlocked wait different whiles, so they drift apart."""
    _, work = failing(30, TransientStorageError("deadlock"))
    with pytest.raises(TransientStorageError):
        retry_transient(work, 30)
    assert len(sleeps) == 29
    assert all(0 <= s <= 0.2 for s in sleeps)
    assert len(set(sleeps)) == 29
