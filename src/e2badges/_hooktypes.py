"""Values that hooks receive or return: a refusal, a plugin's own state.

They live apart from the plugin machinery so that :mod:`e2badges.hookspecs`
can name them without importing the manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._state import StateView

__all__ = ["PluginState", "Refusal", "plugin_state_prefix"]

SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Return this from ``e2badges_check_activity`` to refuse an activity.

    ``reason`` says why, in words the person who did the activity could read;
    it ends up in :class:`~e2badges.ActivityRefusedError`.
    """

    reason: str


def plugin_state_prefix(plugin: str) -> str:
    """Return the state-key prefix of a plugin's own state."""
    return f"plg{SEP}{plugin}{SEP}"


class PluginState:
    """A plugin's own slice of the rewards state, read and written while recording.

    Values are read through the recording transaction (so they include what
    earlier activities of the same batch wrote) and written with the batch's
    effects, atomically: when the batch is refused or fails, the writes are
    discarded with it.  Keys are the plugin's own (no other plugin sees them);
    values must be JSON-safe (numbers, strings, booleans, None, lists, dicts).

    ``Rewards.erase_person(user)`` finds a person in a key by its parts: a key
    is split at :attr:`SEP`, and each part equal to ``user`` becomes the
    pseudonym.  So give each person id a part of its own
    (``PluginState.key(rater, rated)``); an id inside a part
    (``json.dumps([rater, rated])``) is not found, and stays after the erasure.
    A part that is not a person (a day, an activity id) is replaced too when it
    equals the erased id: prefix such parts (``"day:739621"``) or keep them in
    the value.  In values, every string equal to ``user`` (in lists and dicts,
    dict keys included) becomes the pseudonym.
    """

    __slots__ = ("_prefix", "_view")

    #: The separator of the parts of a key (the unit separator, U+001F).
    SEP = SEP

    @staticmethod
    def key(*parts: str) -> str:
        """Return a key made of ``parts``, one person id (or other value) each.

        Raises ValueError when a part contains :attr:`SEP`.
        """
        for part in parts:
            if SEP in part:
                raise ValueError(f"key part {part!r} contains the separator U+001F")
        return SEP.join(parts)

    def __init__(self, view: StateView, plugin: str) -> None:
        self._view = view
        self._prefix = plugin_state_prefix(plugin)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default`` when there is none."""
        return self._view.get(self._prefix + key, default)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, committed with the activity being recorded."""
        self._view.set(self._prefix + key, value)
