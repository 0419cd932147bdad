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
    """

    __slots__ = ("_prefix", "_view")

    def __init__(self, view: StateView, plugin: str) -> None:
        self._view = view
        self._prefix = plugin_state_prefix(plugin)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value stored under ``key``, or ``default`` when there is none."""
        return self._view.get(self._prefix + key, default)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``, committed with the activity being recorded."""
        self._view.set(self._prefix + key, value)
