"""Tenant names: which of several apps or organisations sharing one storage a store serves."""

from __future__ import annotations

import re

from .._errors import ConfigurationError

__all__ = ["DEFAULT_TENANT", "MAX_TENANT_LENGTH", "check_tenant"]

#: The tenant of a store created without one.
DEFAULT_TENANT = "default"

#: Tenant names are at most this many characters (the SQL store's ``tenant`` column).
MAX_TENANT_LENGTH = 64

_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def check_tenant(tenant: object, *, subject: str) -> str:
    """Return ``tenant`` if it is a valid tenant name, else raise ConfigurationError.

    A tenant name is 1 to 64 characters: ASCII letters, digits, ``_``, ``.``,
    ``:`` and ``-``, starting with a letter or a digit.  Names are compared
    exactly (``"Wiki"`` and ``"wiki"`` are two tenants).
    """
    if not isinstance(tenant, str):
        raise ConfigurationError(
            "tenant", f"must be a string, got {type(tenant).__name__}", subject=subject
        )
    if not tenant:
        raise ConfigurationError("tenant", "must not be empty", subject=subject)
    if len(tenant) > MAX_TENANT_LENGTH:
        raise ConfigurationError(
            "tenant",
            f"is {len(tenant)} characters long; the limit is {MAX_TENANT_LENGTH}",
            subject=subject,
        )
    if not _TENANT.fullmatch(tenant):
        raise ConfigurationError(
            "tenant",
            f"{tenant!r} is not a tenant name: use ASCII letters, digits, '_', '.', ':' "
            "and '-', starting with a letter or a digit",
            subject=subject,
        )
    return tenant
