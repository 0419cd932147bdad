"""The e2badges pytest plugin: fixtures for testing an app's reward rules.

Installed with e2badges and loaded through the ``pytest11`` entry point
(``-p no:e2badges`` turns it off; with plugin autoloading disabled, load it
with ``-p e2badges``).  Every name it adds is namespaced, because it loads in
every project that installs e2badges:

- fixtures ``e2badges_rewards`` (a Rewards instance on a fresh store with a
  frozen clock), ``e2badges_clock`` (that FrozenClock: ``set``, ``advance``),
  ``e2badges_store`` and ``e2badges_store_url``, and the overridable
  ``e2badges_rules`` and ``e2badges_options``;
- the marker ``@pytest.mark.e2badges(rules=..., kinds=..., accept_any_kind=...,
  timezone=..., now=...)``;
- the option ``--e2badges-store-url`` (and the ini setting
  ``e2badges_store_url``) to run the same tests on another store.

Importing this module imports pytest and nothing of e2badges beyond the
package itself: the fixtures import what they need when first used.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .. import FrozenClock, PointRule, Rewards
    from ..storage import Store

__all__ = ["DEFAULT_NOW", "DEFAULT_STORE_URL"]

DEFAULT_STORE_URL = "memory://"
DEFAULT_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
MARKER = "e2badges"
_MARKER_OPTIONS = ("accept_any_kind", "kinds", "now", "rules", "timezone")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--e2badges-store-url`` and the ``e2badges_store_url`` ini setting."""
    placeholders = "{tmp_path} and {test_id} are replaced per test"
    group = parser.getgroup("e2badges", "e2badges rewards fixtures")
    group.addoption(
        "--e2badges-store-url",
        dest="e2badges_store_url",
        default=None,
        metavar="URL",
        help=f"store URL for the e2badges_rewards fixture (default {DEFAULT_STORE_URL}); "
        + placeholders,
    )
    parser.addini(
        "e2badges_store_url",
        help=f"default store URL for the e2badges_rewards fixture; {placeholders}",
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``e2badges`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rules=..., kinds=..., accept_any_kind=..., timezone=..., now=...): "
        "options of the e2badges_rewards fixture",
    )


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Name the store the e2badges fixtures use when it is not the default (its
    password masked: the header ends up in CI logs)."""
    url = _configured_url(config)
    return None if url == DEFAULT_STORE_URL else [f"e2badges store: {_masked(url)}"]


def _masked(url: str) -> str:
    """Return ``url`` with the password of its user info shown as ``***``.

    As the SQL store's repr() shows it, for any scheme; a URL that does not parse
    is shown as its scheme alone.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket, say
        return url.split(":", 1)[0] + "://…"
    userinfo, at, host = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not (at and colon):
        return url
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _configured_url(config: pytest.Config) -> str:
    url = config.getoption("e2badges_store_url") or config.getini("e2badges_store_url")
    return str(url) if url else DEFAULT_STORE_URL


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Merge every ``e2badges`` marker on the test, the closest one winning."""
    from .._errors import ConfigurationError  # noqa: PLC0415  # keep the plugin's import light

    merged: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            raise ConfigurationError(
                "args", "takes keyword options only", subject=f"pytest.mark.{MARKER}"
            )
        for key in marker.kwargs:
            if key not in _MARKER_OPTIONS:
                raise ConfigurationError(
                    key,
                    f"is not an option; use {', '.join(_MARKER_OPTIONS)}",
                    subject=f"pytest.mark.{MARKER}",
                )
        merged.update(marker.kwargs)
    return merged


@pytest.fixture
def e2badges_clock(request: pytest.FixtureRequest) -> FrozenClock:
    """Return a FrozenClock at Monday 2026-01-05 09:00 UTC, or at the marker's ``now``."""
    from .. import FrozenClock  # noqa: PLC0415  # keep the plugin's import light

    return FrozenClock(_marker_options(request).get("now", DEFAULT_NOW))


@pytest.fixture
def e2badges_rules() -> Sequence[PointRule]:
    """Return the rules of ``e2badges_rewards``: none; override this fixture to set them."""
    return ()


@pytest.fixture
def e2badges_options() -> dict[str, Any]:
    """Return other Rewards options (kinds, timezone, ...): none; override to set them."""
    return {}


def _test_id(request: pytest.FixtureRequest) -> str:
    """Return a short token made from the test's node id: ``t`` and 12 hex digits."""
    return "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]


@pytest.fixture
def e2badges_store_url(request: pytest.FixtureRequest) -> str:
    """Return the store URL for this test, with ``{tmp_path}`` and ``{test_id}`` replaced.

    ``{test_id}`` is a short token made from the test's node id (letters and
    digits, starting with a letter), so a database store can give each test
    its own tables or file.
    """
    url = _configured_url(request.config)
    if "{test_id}" in url:
        url = url.replace("{test_id}", _test_id(request))
    if "{tmp_path}" in url:
        tmp_path = request.getfixturevalue("tmp_path")
        url = url.replace("{tmp_path}", tmp_path.as_posix())
    return url


@pytest.fixture
def e2badges_store(request: pytest.FixtureRequest, e2badges_store_url: str) -> Iterator[Store]:
    """Return a fresh store from ``e2badges_store_url``, closed after the test.

    The store serves a tenant of the test's own, ``pytest-<test id>``, emptied
    before the test (what a session cut short left there) and deleted after it: on
    a URL whose data outlives the test (a SQLite file, a server) each test still
    starts empty, and leaves nothing behind.  A store that cannot serve another
    tenant, or cannot delete one, is used as opened.
    """
    from ..storage import store_from_url  # noqa: PLC0415  # keep the plugin's import light

    store = store_from_url(e2badges_store_url)
    try:
        own = _own_tenant(store, f"pytest-{_test_id(request)}")
        try:
            yield own
        finally:
            if own is not store:
                own.delete_tenant()
    finally:
        store.close()


def _own_tenant(store: Store, tenant: str) -> Store:
    """Return ``store`` bound to ``tenant``, emptied; or ``store`` itself if it cannot
    serve or delete another tenant (the Store contract's defaults raise
    NotImplementedError)."""
    try:
        own = store.for_tenant(tenant)
        own.delete_tenant()
    except NotImplementedError:
        return store
    return own


@pytest.fixture
def e2badges_rewards(
    request: pytest.FixtureRequest,
    e2badges_store: Store,
    e2badges_clock: FrozenClock,
    e2badges_rules: Sequence[PointRule],
    e2badges_options: dict[str, Any],
) -> Rewards:
    """Return a Rewards instance on ``e2badges_store`` with ``e2badges_clock``.

    Options come from ``e2badges_rules`` and ``e2badges_options``, then from
    ``e2badges`` markers (module, class, then function: the closest wins).
    With no rules and no kinds configured, any kind is accepted.
    """
    from .. import Rewards  # noqa: PLC0415  # keep the plugin's import light

    options: dict[str, Any] = {"rules": tuple(e2badges_rules), **e2badges_options}
    options.update(_marker_options(request))
    options.pop("now", None)
    if not options["rules"] and options.get("kinds") is None:
        options.setdefault("accept_any_kind", True)
    return Rewards(e2badges_store, clock=e2badges_clock, **options)
