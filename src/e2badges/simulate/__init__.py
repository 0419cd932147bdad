"""Simulate an organisation adopting a tool, and report on how the reward rules fare.

A seeded, deterministic simulator: a :class:`Population` adopts by a
:class:`Bass` or :class:`Thresholds` model, adopters fall into
:class:`ParticipationTiers` and act by a :class:`Behaviour`, and
:class:`FeedbackLoops` switch on visible leaderboards, badges or a stories feed.
The activities go through a real :class:`~e2badges.Rewards` instance on any
store, and the run ends with a :class:`HealthReport`.  :func:`compare` runs two
configurations over the same seeds.
"""

from ._experiment import Band as Band
from ._experiment import Comparison as Comparison
from ._experiment import bands as bands
from ._experiment import compare as compare
from ._experiment import run_many as run_many
from ._models import Bass as Bass
from ._models import Behaviour as Behaviour
from ._models import FeedbackEffect as FeedbackEffect
from ._models import FeedbackLoops as FeedbackLoops
from ._models import ParticipationTiers as ParticipationTiers
from ._models import Thresholds as Thresholds
from ._models import bass_closed_form as bass_closed_form
from ._models import bass_recurrence as bass_recurrence
from ._population import Population as Population
from ._report import BadgeShare as BadgeShare
from ._report import Churn as Churn
from ._report import Figures as Figures
from ._report import HealthReport as HealthReport
from ._report import Inequality as Inequality
from ._report import health_report as health_report
from ._simulator import Simulation as Simulation
from ._simulator import SimulationRun as SimulationRun
from ._simulator import default_rules as default_rules
from ._simulator import simulate as simulate

__all__ = [
    "BadgeShare",
    "Band",
    "Bass",
    "Behaviour",
    "Churn",
    "Comparison",
    "FeedbackEffect",
    "FeedbackLoops",
    "Figures",
    "HealthReport",
    "Inequality",
    "ParticipationTiers",
    "Population",
    "Simulation",
    "SimulationRun",
    "Thresholds",
    "bands",
    "bass_closed_form",
    "bass_recurrence",
    "compare",
    "default_rules",
    "health_report",
    "run_many",
    "simulate",
]
