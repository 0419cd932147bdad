"""Values that hooks receive or return: a refusal, a plugin's own state.

They live apart from the plugin machinery so that :mod:`e2badges.hookspecs`
can name them without importing the manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import PluginError
from ._limits import FieldValueError, check_state_key, check_state_value, copy_state_value
from ._state import StateView

__all__ = ["PluginState", "Refusal", "plugin_state_prefix"]

SEP = "\x1f"
#: The hook whose implementations receive a PluginState.
_STATE_HOOK = "e2badges_check_activity"


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
    discarded with it.  Keys are the plugin's own (no other plugin sees them).

    Every store keeps what is set exactly, so a plugin reads back the same on
    each: values are JSON (str, int, float, bool, None, lists and dicts with str
    keys), with finite floats, whole numbers within 64 bits, text encodable as
    UTF-8, at most 64 levels of lists and dicts and 1 MiB as JSON; a tuple is
    refused, since a SQL store would read it back as a list.  Keys are strings
    without NUL or lone surrogates.  Anything else raises
    :class:`~e2badges.PluginError` naming the plugin and the key (the batch is then
    not stored).  ``set`` keeps a copy and ``get`` returns one: changing a list or
    dict read or set changes nothing stored until it is set again.

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

    __slots__ = ("_plugin", "_prefix", "_view")

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
        self._plugin = plugin
        self._prefix = plugin_state_prefix(plugin)

    def get(self, key: str, default: Any = None) -> Any:
        """Return (a copy of) the value stored under ``key``, or ``default`` when there is none.

        Raises PluginError when ``key`` is not a key a store can hold.
        """
        value = self._view.get(self._key(key), default)
        return value if value is default else copy_state_value(value)

    def set(self, key: str, value: Any) -> None:
        """Store (a copy of) ``value`` under ``key``, committed with the activity being recorded.

        Raises PluginError when ``key`` or ``value`` is not one every store keeps exactly.
        """
        state_key = self._key(key)
        try:
            checked = check_state_value(value)
        except FieldValueError as exc:
            raise self._error(key, f"{exc.field}: {exc.reason}") from None
        self._view.set(state_key, checked)

    def _key(self, key: str) -> str:
        try:
            return self._prefix + check_state_key(key)
        except ValueError as exc:
            raise self._error(key, str(exc)) from None

    def _error(self, key: object, reason: str) -> PluginError:
        shown = repr(key) if len(repr(key)) <= 80 else repr(key)[:80] + "…"
        return PluginError(self._plugin, _STATE_HOOK, f"state key {shown}: {reason}")
