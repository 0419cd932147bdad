"""e2badges: feedback-loop rewards for internal apps.

Record what people do; get points, badges, levels, leaderboards, a feed of
stories and adoption figures that everyone can see.
"""

from ._clock import Clock as Clock
from ._clock import FrozenClock as FrozenClock
from ._clock import SystemClock as SystemClock
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConflictingActivityError as ConflictingActivityError
from ._errors import E2BadgesError as E2BadgesError
from ._errors import InvalidActivityError as InvalidActivityError
from ._errors import MissingDependencyError as MissingDependencyError
from ._errors import SchemaVersionError as SchemaVersionError
from ._errors import StorageError as StorageError
from ._errors import TransientStorageError as TransientStorageError
from ._errors import UnknownKindError as UnknownKindError
from ._errors import UnknownStoreError as UnknownStoreError
from ._models import Activity as Activity
from ._models import ActivityKind as ActivityKind
from ._models import Award as Award
from ._models import LedgerEntry as LedgerEntry
from ._models import LevelChange as LevelChange
from ._models import Outcome as Outcome
from ._models import Revocation as Revocation
from ._rewards import Rewards as Rewards
from ._rules import Cap as Cap
from ._rules import PointRule as PointRule
from ._version import __version__ as __version__

__all__ = [
    "Activity",
    "ActivityKind",
    "Award",
    "Cap",
    "Clock",
    "ConfigurationError",
    "ConflictingActivityError",
    "E2BadgesError",
    "FrozenClock",
    "InvalidActivityError",
    "LedgerEntry",
    "LevelChange",
    "MissingDependencyError",
    "Outcome",
    "PointRule",
    "Revocation",
    "Rewards",
    "SchemaVersionError",
    "StorageError",
    "SystemClock",
    "TransientStorageError",
    "UnknownKindError",
    "UnknownStoreError",
    "__version__",
]
