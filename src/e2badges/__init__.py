"""e2badges: feedback-loop rewards for internal apps.

Record what people do; get points, badges, levels, leaderboards, a feed of
stories and adoption figures that everyone can see.
"""

from ._board_view import LeaderboardView as LeaderboardView
from ._clock import Clock as Clock
from ._clock import FrozenClock as FrozenClock
from ._clock import SystemClock as SystemClock
from ._errors import ConfigurationError as ConfigurationError
from ._errors import ConflictingActivityError as ConflictingActivityError
from ._errors import E2BadgesError as E2BadgesError
from ._errors import InvalidActivityError as InvalidActivityError
from ._errors import InvalidQueryError as InvalidQueryError
from ._errors import MissingDependencyError as MissingDependencyError
from ._errors import StorageError as StorageError
from ._errors import UnknownKindError as UnknownKindError
from ._errors import UnknownLeaderboardError as UnknownLeaderboardError
from ._errors import UnknownStoreError as UnknownStoreError
from ._leaderboards import AverageMetric as AverageMetric
from ._leaderboards import CountMetric as CountMetric
from ._leaderboards import EveryoneScope as EveryoneScope
from ._leaderboards import Leaderboard as Leaderboard
from ._leaderboards import LeaderboardEntry as LeaderboardEntry
from ._leaderboards import PointsMetric as PointsMetric
from ._leaderboards import SumMetric as SumMetric
from ._leaderboards import TeamScope as TeamScope
from ._leaderboards import TeamsScope as TeamsScope
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
    "AverageMetric",
    "Award",
    "Cap",
    "Clock",
    "ConfigurationError",
    "ConflictingActivityError",
    "CountMetric",
    "E2BadgesError",
    "EveryoneScope",
    "FrozenClock",
    "InvalidActivityError",
    "InvalidQueryError",
    "Leaderboard",
    "LeaderboardEntry",
    "LeaderboardView",
    "LedgerEntry",
    "LevelChange",
    "MissingDependencyError",
    "Outcome",
    "PointRule",
    "PointsMetric",
    "Revocation",
    "Rewards",
    "StorageError",
    "SumMetric",
    "SystemClock",
    "TeamScope",
    "TeamsScope",
    "UnknownKindError",
    "UnknownLeaderboardError",
    "UnknownStoreError",
    "__version__",
]
