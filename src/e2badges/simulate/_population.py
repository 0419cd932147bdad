"""The simulated organisation: people in teams, and the seats bought for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from .._errors import ConfigurationError
from .._limits import MAX_IDENTIFIER_LENGTH
from .._models import check_identifier
from ._config import Config

__all__ = ["Population", "Roster"]

MAX_PEOPLE = 10_000_000


class Population(Config):
    """``people`` people split into ``teams``, with ``seats`` licences (at least ``people``).

    ``teams`` is a number of teams (named ``team-01``, ``team-02``, ...) or a tuple
    of team names.  People are named ``<prefix><index>`` with the index padded so
    that names sort in population order (``u0000`` to ``u9999`` for 10,000 people)
    and are split into teams in contiguous blocks whose sizes differ by at most one.
    ``seats`` defaults to ``people``; more seats than people models licences bought
    for people who are not (yet) in the organisation, so adoption against seats
    stays below 100 %.
    """

    people: int = Field(ge=1, le=MAX_PEOPLE)
    teams: int | tuple[str, ...] = 1
    seats: int | None = None
    prefix: str = "u"

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: int | tuple[str, ...]) -> int | tuple[str, ...]:
        if isinstance(value, int):
            if value < 1:
                raise ValueError("must be at least 1")
            return value
        if not value:
            raise ValueError("must name at least one team")
        for name in value:
            check_identifier(name)
        if len(set(value)) != len(value):
            raise ValueError("names a team twice")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_identifier(value + "0")[:-1]

    def _check(self) -> None:
        # The simulator records ids built from the prefix without validating each one.
        width = len(str(self.people - 1))
        if len(self.prefix) + width > MAX_IDENTIFIER_LENGTH:
            self._refuse(
                "prefix",
                f"is {len(self.prefix)} characters long; with the {width}-digit index of "
                f"{self.people} people, ids would be {len(self.prefix) + width} characters "
                f"long; the limit is {MAX_IDENTIFIER_LENGTH}",
            )
        if self.team_count > self.people:
            self._refuse(
                "teams", f"{self.team_count} teams for {self.people} people leaves a team empty"
            )
        if self.seats is not None and self.seats < self.people:
            self._refuse("seats", f"{self.seats} seats is fewer than the {self.people} people")

    @property
    def team_count(self) -> int:
        """Return the number of teams."""
        return self.teams if isinstance(self.teams, int) else len(self.teams)

    @property
    def seat_count(self) -> int:
        """Return the number of seats (``people`` when not given)."""
        return self.people if self.seats is None else self.seats

    def team_names(self) -> tuple[str, ...]:
        """Return the team names in order."""
        if isinstance(self.teams, tuple):
            return self.teams
        width = max(2, len(str(self.teams)))
        return tuple(f"team-{j + 1:0{width}d}" for j in range(self.teams))

    def ids(self) -> tuple[str, ...]:
        """Return the people's ids in population order."""
        width = len(str(self.people - 1))
        return tuple(f"{self.prefix}{i:0{width}d}" for i in range(self.people))

    def team_of(self) -> tuple[int, ...]:
        """Return each person's team index, in population order."""
        n, t = self.people, self.team_count
        return tuple(i * t // n for i in range(n))

    def roster(self) -> Roster:
        """Return the population as a Roster (ids, team of each, team names, seats)."""
        return Roster(self.ids(), self.team_of(), self.team_names(), self.seat_count)


@dataclass(frozen=True, slots=True)
class Roster:
    """Who is in the organisation: what a health report is computed over.

    ``team_of[i]`` is the index in ``teams`` of person ``ids[i]``.
    """

    ids: tuple[str, ...]
    team_of: tuple[int, ...]
    teams: tuple[str, ...]
    seats: int

    @classmethod
    def coerce(cls, value: Population | Roster | Mapping[str, str], *, seats: int | None) -> Roster:
        """Return a Roster from a Population, a Roster, or a mapping of person to team."""
        if isinstance(value, Roster):
            roster = value
        elif isinstance(value, Population):
            roster = value.roster()
        elif isinstance(value, Mapping):
            roster = cls._from_mapping(value)
        else:
            raise ConfigurationError(
                "population",
                f"expected a Population or a mapping of person to team, got {type(value).__name__}",
                subject="health report",
            )
        if seats is not None:
            if seats < len(roster.ids):
                raise ConfigurationError(
                    "seats", "must be at least the number of people", subject="health report"
                )
            roster = cls(roster.ids, roster.team_of, roster.teams, seats)
        return roster

    @classmethod
    def _from_mapping(cls, members: Mapping[str, Any]) -> Roster:
        if not members:
            raise ConfigurationError("population", "is empty", subject="health report")
        ids = tuple(sorted(members))
        teams = tuple(sorted({str(members[person]) for person in ids}))
        index = {name: j for j, name in enumerate(teams)}
        return cls(ids, tuple(index[str(members[person])] for person in ids), teams, len(ids))
