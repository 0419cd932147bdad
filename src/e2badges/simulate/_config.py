"""The base of the simulator's configuration models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .._errors import ConfigurationError
from .._rules import _config_error

__all__ = ["Config"]


class Config(BaseModel):
    """A frozen configuration model whose errors are ConfigurationErrors naming the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc, type(self).__name__) from None
        self._check()

    def _check(self) -> None:
        """Check rules that tie several fields together; raise through :meth:`_refuse`."""

    def _refuse(self, field: str, reason: str) -> None:
        raise ConfigurationError(field, reason, subject=type(self).__name__)
