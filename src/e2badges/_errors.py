"""Every exception e2badges raises.

Each error subclasses :class:`E2BadgesError` and a fitting standard exception, so
callers can catch either.  Input errors carry ``field`` and ``reason`` and build
their message from them; they are raised before anything is written.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ConflictingActivityError",
    "E2BadgesError",
    "InvalidActivityError",
    "InvalidQueryError",
    "MissingDependencyError",
    "StorageError",
    "UnknownKindError",
    "UnknownLeaderboardError",
    "UnknownStoreError",
]


class E2BadgesError(Exception):
    """Base class of every error raised by e2badges."""


class _FieldError(E2BadgesError):
    """An error about one named field of an input, with the reason it was refused."""

    def __init__(self, field: str, reason: str, *, subject: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.subject = subject
        where = f"{subject}: " if subject else ""
        super().__init__(f"{where}{field}: {reason}")


class InvalidActivityError(_FieldError, ValueError):
    """An activity failed validation; ``field`` names the offending field."""


class UnknownKindError(_FieldError, LookupError):
    """An activity's kind was not declared on the Rewards instance."""

    def __init__(self, kind: str, *, known: list[str] | None = None) -> None:
        hint = ""
        if known is not None:
            shown = ", ".join(sorted(known)[:10]) or "none"
            hint = f" (declared kinds: {shown})"
        super().__init__("kind", f"undeclared activity kind {kind!r}{hint}")
        self.kind = kind


class InvalidQueryError(_FieldError, ValueError):
    """A query argument is invalid (a negative count, an unknown window or period)."""


class UnknownLeaderboardError(_FieldError, LookupError):
    """No leaderboard with this id is defined on the Rewards instance."""

    def __init__(self, board: str, *, known: list[str]) -> None:
        shown = ", ".join(sorted(known)[:10]) or "none"
        super().__init__("board", f"no leaderboard {board!r} (defined: {shown})")
        self.board = board


class ConflictingActivityError(_FieldError, ValueError):
    """An activity id was recorded before with different content."""

    def __init__(self, activity_id: str, differing: list[str]) -> None:
        super().__init__(
            "id",
            f"activity {activity_id!r} was already recorded with different {', '.join(differing)}",
        )
        self.activity_id = activity_id
        self.differing = differing


class ConfigurationError(_FieldError, ValueError):
    """A rule, badge, board or Rewards option is invalid; ``subject`` names its owner."""


class UnknownStoreError(E2BadgesError, ValueError):
    """No store is registered for a URL's scheme."""

    def __init__(self, url: str, schemes: list[str]) -> None:
        super().__init__(
            f"store: no store for URL {url!r}; known schemes: {', '.join(sorted(schemes))}"
        )
        self.url = url


class MissingDependencyError(E2BadgesError, ImportError):
    """An optional driver is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f'{module} is not installed; install it with: pip install "e2badges[{extra}]"'
        )
        self.module = module
        self.extra = extra


class StorageError(E2BadgesError, RuntimeError):
    """A store failed; the driver's own exception is chained as ``__cause__``."""
