"""Every exception e2badges raises.

Each error subclasses :class:`E2BadgesError` and a fitting standard exception, so
callers can catch either.  Input errors carry ``field`` and ``reason`` and build
their message from them; they are raised before anything is written.
"""

from __future__ import annotations

import re

__all__ = [
    "ActivityRefusedError",
    "ConfigurationError",
    "ConflictingActivityError",
    "E2BadgesError",
    "InvalidActivityError",
    "InvalidPersonError",
    "InvalidQueryError",
    "MissingDependencyError",
    "PluginError",
    "RankingsDisabledError",
    "SchemaVersionError",
    "StorageError",
    "TransientStorageError",
    "UnknownBadgeError",
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


class UnknownBadgeError(_FieldError, LookupError):
    """A grant, revocation or query named a badge that is not defined."""

    def __init__(self, badge: str, *, known: list[str] | None = None, field: str = "badge") -> None:
        hint = ""
        if known is not None:
            shown = ", ".join(sorted(known)[:10]) or "none"
            hint = f" (defined badges: {shown})"
        super().__init__(field, f"unknown badge {badge!r}{hint}")
        self.badge = badge


class InvalidQueryError(_FieldError, ValueError):
    """A query argument is invalid (a negative count, an unknown window or period)."""


class InvalidPersonError(_FieldError, ValueError):
    """A person's record or privacy setting is invalid; ``field`` names the offending field."""


class RankingsDisabledError(E2BadgesError, PermissionError):
    """A query would rank people, and this Rewards instance has rankings turned off.

    Raised by leaderboard queries and ``newcomers()`` under ``Rewards(rankings=False)``
    (where local law or a works agreement forbids ranking employees).
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}: rankings are turned off for this organisation (Rewards(rankings=False)); "
            "points, badges, levels and a person's own scores are still available"
        )
        self.what = what


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
            f"store: no store for URL {_masked(url)!r}; known schemes: {', '.join(sorted(schemes))}"
        )
        self.url = url


# ``scheme://user:password@``: the password runs to the last "@" (it may hold one).
_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*://[^:/@]*:)(.*)@")


def _masked(url: str) -> str:
    """Return ``url`` with its password (if any) shown as ``***``, as SQLAlchemy's
    ``URL.__repr__`` shows it: an error message may end up in a log."""
    return _PASSWORD.sub(r"\1***@", url, count=1)


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


class ActivityRefusedError(E2BadgesError, ValueError):
    """A plugin refused an activity before anything was written; nothing of its batch is stored."""

    def __init__(self, activity_id: str, plugin: str, reason: str) -> None:
        super().__init__(f"activity {activity_id!r} refused by plugin {plugin!r}: {reason}")
        self.activity_id = activity_id
        self.plugin = plugin
        self.reason = reason


class PluginError(E2BadgesError, RuntimeError):
    """A plugin broke the contract of a hook (an invalid return value, a failed contribution)."""

    def __init__(self, plugin: str, hook: str, reason: str) -> None:
        super().__init__(f"plugin {plugin!r}, hook {hook}: {reason}")
        self.plugin = plugin
        self.hook = hook
        self.reason = reason


class TransientStorageError(StorageError):
    """A recording transaction failed for a reason a retry may cure; nothing was stored.

    Raised for deadlocks, serialization failures, lock timeouts, MariaDB's
    snapshot conflicts (error 1020) and lost connections, only when the store owned
    the transaction (so everything was
    rolled back).  Rewards retries such a batch up to ``store.max_attempts`` times.
    """


class SchemaVersionError(StorageError):
    """The database's e2badges schema is missing, older or newer than this version knows.

    ``found`` is the version in the database (None when it has no schema), or the
    text of its version row when that is not a number; ``known`` is this version's.
    """

    def __init__(self, found: int | str | None, known: int, *, prefix: str, hint: str) -> None:
        where = f"tables with prefix {prefix!r}"
        if found is None:
            what = f"no e2badges schema ({where})"
        elif isinstance(found, str):
            what = f"the schema_version row ({where}) holds {found!r}, not a version number"
        elif found > known:
            what = f"schema version {found} ({where}) is newer than this e2badges knows ({known})"
        else:
            what = f"schema version {found} ({where}) is older than this e2badges needs ({known})"
        super().__init__(f"store: {what}; {hint}")
        self.found = found
        self.known = known
        self.prefix = prefix
