"""Badge criteria: what a badge measures or requires.

Use them in a :class:`~e2badges.Badge`::

    from e2badges import Badge, Tier, criteria

    Badge(id="commenter", criterion=criteria.Count(kind="comment.created"), threshold=10)

They live in their own namespace because their names (``Count``, ``Sum``,
``First``...) are short and general.
"""

from ._badges import (
    AllOf,
    AnyOf,
    Count,
    Criterion,
    Distinct,
    First,
    Manual,
    Plugin,
    Points,
    Rolling,
    Streak,
    Sum,
)

__all__ = [
    "AllOf",
    "AnyOf",
    "Count",
    "Criterion",
    "Distinct",
    "First",
    "Manual",
    "Plugin",
    "Points",
    "Rolling",
    "Streak",
    "Sum",
]
