"""The example plugin package, installed with pip and found through its entry points.

Install it before running these tests, from the repository root:
``pip install -e examples/e2badges-reciprocity``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from typing import Any

import pytest
from plugin_helpers import T0, act, rewards_with, stub_badges

from e2badges import (
    ActivityRefusedError,
    ConfigurationError,
    DeliveryPolicy,
    FrozenClock,
    Rewards,
)
from e2badges._engine import EffectBatch

INSTALL = "pip install -e examples/e2badges-reciprocity"
try:
    import e2badges_reciprocity
    from e2badges_reciprocity import ReciprocityGuard, WebhookNotifier
except ImportError:
    pytest.fail(
        f"the example plugin package is not installed: run `{INSTALL}` from the repository root",
        pytrace=False,
    )
_EPS = {
    ep.name: ep
    for ep in entry_points(group="e2badges")
    if ep.dist is not None and ep.dist.name == "e2badges-reciprocity"
}
if set(_EPS) != {"reciprocity", "webhook"}:
    pytest.fail(
        "e2badges_reciprocity is importable but its entry points are not installed: "
        f"run `{INSTALL}` from the repository root",
        pytrace=False,
    )

WEEK = timedelta(days=7)


def rating(n: int, actor: str, recipient: str, value: float, *, at: timedelta | None = None) -> Any:
    """Return rating activity ``a<n>``: ``actor`` rates ``recipient`` ``value``."""
    activity = act(n, actor=actor, kind="rating.given", recipient=recipient, value=value)
    if at is not None:
        activity = activity.model_copy(update={"at": T0 + at})
    return activity


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.url = ""

    def events(self) -> list[str]:
        """Return the events received, in order."""
        return [body["event"] for _path, _headers, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Serve a webhook receiver in a thread for the test's duration."""
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append((self.path, dict(self.headers), json.loads(body)))
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval lets shutdown() return at once rather than after 0.5 s.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_port}/hooks/e2badges"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Clear the example's environment variables."""
    for name in (
        "E2BADGES_RECIPROCITY_MODE",
        "E2BADGES_RECIPROCITY_KINDS",
        "E2BADGES_RECIPROCITY_THRESHOLD",
        "E2BADGES_RECIPROCITY_WINDOW_DAYS",
        "E2BADGES_WEBHOOK_URL",
        "E2BADGES_WEBHOOK_EVENTS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class TestInstalled:
    def test_entry_points_installed(self) -> None:
        """The package declares its two plugins in the ``e2badges`` entry-point group."""
        assert {name: ep.value for name, ep in _EPS.items()} == {
            "reciprocity": "e2badges_reciprocity:guard_from_env",
            "webhook": "e2badges_reciprocity:webhook_from_env",
        }

    def test_inactive_until_configured(self, no_env: pytest.MonkeyPatch) -> None:
        """Installed but not configured, the plugins register nothing."""
        rewards = Rewards(kinds=["rating.given"])
        assert "reciprocity" not in rewards.plugins.names()
        assert "webhook" not in rewards.plugins.names()

    @pytest.mark.hook("e2badges_check_activity")
    @pytest.mark.hook("e2badges_notify_outcome")
    def test_discovered_through_entry_points(
        self, no_env: pytest.MonkeyPatch, receiver: Receiver
    ) -> None:
        """Configured from the environment, both plugins are found through their entry points
        and work: a ring is refused, a recorded rating is posted."""
        no_env.setenv("E2BADGES_RECIPROCITY_MODE", "refuse")
        no_env.setenv("E2BADGES_WEBHOOK_URL", receiver.url)
        no_env.setenv("E2BADGES_WEBHOOK_EVENTS", "activity.recorded")
        rewards = Rewards(rules=[], kinds=["rating.given"], clock=FrozenClock(T0))
        assert {"reciprocity", "webhook"} <= set(rewards.plugins.names())
        assert isinstance(rewards.plugins.get("reciprocity"), ReciprocityGuard)
        assert isinstance(rewards.plugins.get("webhook"), WebhookNotifier)
        rewards.record(rating(1, "ann", "bob", 5))
        with pytest.raises(ActivityRefusedError, match="plugin 'reciprocity'"):
            rewards.record(rating(2, "bob", "ann", 5))
        assert receiver.events() == ["activity.recorded"]

    def test_environment_configures_the_guard(self, no_env: pytest.MonkeyPatch) -> None:
        """The guard's kinds, threshold, window and mode come from the environment."""
        no_env.setenv("E2BADGES_RECIPROCITY_MODE", "zero")
        no_env.setenv("E2BADGES_RECIPROCITY_KINDS", "answer.rated, post.rated")
        no_env.setenv("E2BADGES_RECIPROCITY_THRESHOLD", "3.5")
        no_env.setenv("E2BADGES_RECIPROCITY_WINDOW_DAYS", "2")
        guard = e2badges_reciprocity.guard_from_env()
        assert guard is not None
        assert (guard.kinds, guard.threshold, guard.window, guard.mode) == (
            frozenset({"answer.rated", "post.rated"}),
            3.5,
            timedelta(days=2),
            "zero",
        )

    @pytest.mark.parametrize(
        ("variable", "value", "reason"),
        [
            ("E2BADGES_RECIPROCITY_THRESHOLD", "high", "'high' is not a number"),
            ("E2BADGES_RECIPROCITY_THRESHOLD", "inf", "'inf' is not a finite number"),
            ("E2BADGES_RECIPROCITY_THRESHOLD", "1e400", "'1e400' is not a finite number"),
            ("E2BADGES_RECIPROCITY_THRESHOLD", "nan", "'nan' is not a finite number"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "inf", "'inf' is not a finite number"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "-inf", "'-inf' is not a finite number"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "nan", "'nan' is not a finite number"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "1e10", "at most 999999999 days"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "0", "more than 0 days"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "-1", "more than 0 days"),
            ("E2BADGES_RECIPROCITY_WINDOW_DAYS", "1e-12", "at least a microsecond"),
            ("E2BADGES_RECIPROCITY_KINDS", "not a kind", "'not a kind' is not a dotted name"),
            ("E2BADGES_RECIPROCITY_KINDS", "rating.given, x y", "'x y' is not a dotted name"),
            ("E2BADGES_RECIPROCITY_KINDS", " , ", "give at least one kind"),
        ],
    )
    def test_bad_environment(
        self, no_env: pytest.MonkeyPatch, variable: str, value: str, reason: str
    ) -> None:
        """A value in the environment that is not a number, not finite, out of range or
        not a kind is a ConfigurationError naming the variable, which fails the build."""
        no_env.setenv("E2BADGES_RECIPROCITY_MODE", "refuse")
        no_env.setenv(variable, value)
        with pytest.raises(ConfigurationError) as info:
            e2badges_reciprocity.guard_from_env()
        assert (info.value.subject, info.value.field) == ("environment", variable)
        assert reason in info.value.reason
        with pytest.raises(ConfigurationError, match=f"failed to load.*{variable}"):
            Rewards(kinds=["rating.given"])

    def test_explicit_instance_replaces_installed(
        self, no_env: pytest.MonkeyPatch, receiver: Receiver
    ) -> None:
        """A configured instance passed explicitly replaces the installed plugin of its name."""
        no_env.setenv("E2BADGES_RECIPROCITY_MODE", "refuse")
        guard = ReciprocityGuard(mode="zero")
        rewards = Rewards(kinds=["rating.given"], plugins=[guard])
        assert rewards.plugins.get("reciprocity") is guard


@pytest.mark.hook("e2badges_check_activity")
class TestGuard:
    def test_ring_refused(self) -> None:
        """B rating A highly within a week of A rating B highly is refused; nothing is stored."""
        rewards = rewards_with(ReciprocityGuard())
        rewards.record(rating(1, "ann", "bob", 5))
        with pytest.raises(ActivityRefusedError) as info:
            rewards.record(rating(2, "bob", "ann", 4))
        assert info.value.reason == "bob and ann rated each other 4 or more within 7 days, 0:00:00"
        assert rewards.activity("a2") is None
        # ann got nothing from bob: 0 points; bob keeps ann's 5.
        assert (rewards.balance("ann"), rewards.balance("bob")) == (0, 5)

    def test_ring_in_one_batch(self) -> None:
        """A ring closed inside one batch refuses the batch."""
        rewards = rewards_with(ReciprocityGuard())
        with pytest.raises(ActivityRefusedError):
            rewards.record_many([rating(1, "ann", "bob", 5), rating(2, "bob", "ann", 5)])
        assert rewards.store.count_activities() == 0

    @pytest.mark.parametrize(
        ("first", "second", "gap", "refused"),
        [
            (5, 5, WEEK, True),  # exactly a week apart still counts
            (5, 5, WEEK + timedelta(seconds=1), False),
            (3.9, 5, timedelta(hours=1), False),  # the first rating was not high
            (5, 3.9, timedelta(hours=1), False),  # the answer is not high
            (4, 4, -timedelta(days=3), True),  # recorded out of order
        ],
    )
    def test_threshold_and_window(
        self, first: float, second: float, gap: timedelta, refused: bool
    ) -> None:
        """Only two ratings at or above the threshold, at most a window apart, make a ring."""
        rewards = rewards_with(ReciprocityGuard(threshold=4, window=WEEK))
        rewards.record(rating(1, "ann", "bob", first, at=timedelta(days=10)))
        answer = rating(2, "bob", "ann", second, at=timedelta(days=10) + gap)
        if refused:
            with pytest.raises(ActivityRefusedError):
                rewards.record(answer)
        else:
            rewards.record(answer)
            assert rewards.activity("a2") == answer

    def test_other_pairs_kinds_and_self(self) -> None:
        """Ratings between other people, of other kinds, or of oneself are not rings."""
        rewards = rewards_with(ReciprocityGuard())
        rewards.record_many(
            [
                rating(1, "ann", "bob", 5),
                rating(2, "bob", "cat", 5),
                rating(3, "cat", "cat", 5),
                act(4, actor="bob", recipient="ann", value=5),  # a comment, not a rating
                rating(5, "ann", "cat", 5),
            ]
        )
        assert rewards.store.count_activities() == 5

    def test_zero_mode(self) -> None:
        """In zero mode the closing rating is recorded with value 0, marked, and credits 0."""
        rewards = rewards_with(ReciprocityGuard(mode="zero"))
        rewards.record(rating(1, "ann", "bob", 5))
        outcome = rewards.record(rating(2, "bob", "ann", 5))
        stored = rewards.activity("a2")
        assert stored is not None
        assert (stored.value, stored.attributes) == (
            0.0,
            {"reciprocity": {"ring_with": "ann", "value": 5.0}},
        )
        assert outcome.credited("ann") == 0

    def test_zero_mode_retry_is_duplicate(self) -> None:
        """Retrying a zero-rated rating as first sent is a duplicate, not a conflict."""
        rewards = rewards_with(ReciprocityGuard(mode="zero"))
        rewards.record(rating(1, "ann", "bob", 5))
        outcome = rewards.record(rating(2, "bob", "ann", 5))
        assert rewards.record(rating(2, "bob", "ann", 5)) == outcome
        assert rewards.record(rating(1, "ann", "bob", 5)).credited("bob") == 5

    def test_state_shared_across_instances(self) -> None:
        """The guard remembers ratings in the store: another Rewards over it sees the ring."""
        first = rewards_with(ReciprocityGuard())
        first.record(rating(1, "ann", "bob", 5))
        second = rewards_with(ReciprocityGuard(), store=first.store)
        with pytest.raises(ActivityRefusedError):
            second.record(rating(2, "bob", "ann", 5))

    def test_erasure_finds_both_people_in_the_keys(self) -> None:
        """The guard keys a pair with one person id per part, so erase_person finds the
        rater and the rated: no key names the erased person, and the pseudonym's pair
        is remembered."""
        rewards = rewards_with(ReciprocityGuard())
        rewards.record_many([rating(1, "ann", "bob", 5), rating(2, "cat", "ann", 5)])
        old = ["plg\x1freciprocity\x1fann\x1fbob", "plg\x1freciprocity\x1fcat\x1fann"]
        assert set(rewards.store.read_state(old)) == set(old)

        rewards.erase_person("ann")

        pseudonym = rewards.activity("a1").actor  # type: ignore[union-attr]
        new = [k.replace("ann", pseudonym) for k in old]
        assert rewards.store.read_state(old) == {}
        assert set(rewards.store.read_state(new)) == set(new)
        # bob answering the erased rating is still a ring: the pair kept its time.
        with pytest.raises(ActivityRefusedError):
            rewards.record(rating(3, "bob", pseudonym, 5))

    def test_reads_keys_written_before(self) -> None:
        """A rating remembered under the former key (the pair as JSON) still closes a ring."""
        rewards = rewards_with(ReciprocityGuard())
        with rewards.store.transaction() as tx:
            tx.claim([])
            key = 'plg\x1freciprocity\x1f["ann", "bob"]'
            view = tx.view({key} if tx.wants_keys else None)
            view.set(key, (T0 + timedelta(minutes=1)).timestamp())
            tx.apply(EffectBatch(state=view.writes))
        with pytest.raises(ActivityRefusedError):
            rewards.record(rating(2, "bob", "ann", 5))

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"kinds": ()}, "kinds"),
            ({"kinds": "rating.given"}, "kinds"),
            ({"kinds": ["rating.given", "not a kind"]}, "kinds"),
            ({"kinds": [5]}, "kinds"),
            ({"threshold": float("nan")}, "threshold"),
            ({"threshold": "4"}, "threshold"),
            ({"window": timedelta(0)}, "window"),
            ({"mode": "ban"}, "mode"),
        ],
    )
    def test_options_validated(self, options: dict[str, Any], field: str) -> None:
        """A bad option is a ConfigurationError naming it."""
        with pytest.raises(ConfigurationError) as info:
            ReciprocityGuard(**options)
        assert info.value.field == field


class TestWebhook:
    @pytest.mark.hook("e2badges_notify_outcome")
    def test_posts_recorded_activity(self, receiver: Receiver) -> None:
        """A recorded activity is posted as JSON with its outcome and an Idempotency-Key."""
        rewards = rewards_with(WebhookNotifier(receiver.url))
        rewards.record(rating(1, "ann", "bob", 5))
        ((path, headers, body),) = receiver.requests
        assert path == "/hooks/e2badges"
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["Idempotency-Key"] == "recorded:a1"
        assert (body["event"], body["id"]) == ("activity.recorded", "recorded:a1")
        assert body["data"]["activity"]["recipient"] == "bob"
        assert body["data"]["activity"]["at"] == "2026-03-02T09:01:00+00:00"
        (line,) = body["data"]["outcome"]["ledger"]
        assert (line["user"], line["amount"], line["at"]) == ("bob", 5, "2026-03-02T09:01:00+00:00")

    @pytest.mark.hook("e2badges_notify_award")
    @pytest.mark.hook("e2badges_notify_revocation")
    @pytest.mark.hook("e2badges_notify_level_change")
    def test_posts_badge_and_level_events(self, receiver: Receiver) -> None:
        """Awards, revocations and level changes are posted as their own events."""
        rewards = rewards_with(
            WebhookNotifier(
                receiver.url, events=["badge.awarded", "badge.revoked", "level.changed"]
            )
        )
        stub_badges(rewards)
        rewards.record(act(1, attributes={"award": "helper", "revoke": "spammer", "level": 2}))
        assert receiver.events() == ["badge.awarded", "badge.revoked", "level.changed"]
        award = receiver.requests[0][2]
        assert award == {
            "event": "badge.awarded",
            "id": "award:0:a1",
            "data": {
                "user": "ann",
                "badge": "helper",
                "tier": "gold",
                "period": None,
                "at": "2026-03-02T09:01:00+00:00",
                "activity_id": "a1",
                "rule": "stub",
                "team": None,
            },
        }
        assert receiver.requests[2][2]["data"]["new"] == 2

    @pytest.mark.hook("e2badges_notify_period_close")
    def test_posts_period_close(self, receiver: Receiver) -> None:
        """A closed leaderboard period is posted with its standings."""
        notifier = WebhookNotifier(receiver.url)
        standings = [{"rank": 1, "user": "ann", "score": 12}]
        notifier.e2badges_notify_period_close("weekly", "2026-W10", standings, "period:1")
        assert receiver.requests[0][2] == {
            "event": "leaderboard.period_closed",
            "id": "period:1",
            "data": {"board": "weekly", "period": "2026-W10", "standings": standings},
        }

    def test_events_filtered(self, receiver: Receiver) -> None:
        """Only the chosen events are posted."""
        rewards = rewards_with(WebhookNotifier(receiver.url, events=["badge.awarded"]))
        rewards.record(act(1))
        assert receiver.requests == []

    def test_failing_receiver_retried(self, receiver: Receiver) -> None:
        """A receiver answering 500 is reported, the activity stays recorded, and the post is
        retried after the backoff with the same id."""
        clock = FrozenClock(T0)
        receiver.status = 500
        rewards = rewards_with(WebhookNotifier(receiver.url), clock=clock)
        rewards.record(act(1))
        assert rewards.balance("ann") == 2
        assert [f.error for f in rewards.delivery_errors] == [
            "HTTPError: HTTP Error 500: Internal Server Error"
        ]
        receiver.status = 204
        clock.advance(DeliveryPolicy().backoff)
        assert rewards.deliver_pending().delivered == 1
        assert [headers["Idempotency-Key"] for _p, headers, _b in receiver.requests] == [
            "recorded:a1",
            "recorded:a1",
        ]
        clock.advance(timedelta(days=1))
        assert rewards.deliver_pending().delivered == 0
        assert len(receiver.requests) == 2

    @pytest.mark.parametrize(
        ("activity_id", "key"),
        [
            ("a1", "recorded:a1"),
            ("post/1+2@x", "recorded:post/1+2@x"),  # printable ASCII but % is sent as it is
            ("post-€1", "recorded:post-%E2%82%AC1"),  # outside Latin-1: failed every attempt
            ("Beitrag-ä", "recorded:Beitrag-%C3%A4"),  # Latin-1: was sent as the raw byte E4
            ("100% done ", "recorded:100%25%20done%20"),  # a trailing space would be dropped
            ("🎉", "recorded:%F0%9F%8E%89"),
        ],
    )
    def test_idempotency_key_percent_encoded(
        self, receiver: Receiver, activity_id: str, key: str
    ) -> None:
        """Any activity id e2badges accepts is delivered: the Idempotency-Key is the id's UTF-8
        percent-encoded (plain ASCII), and decodes to the body's id."""
        rewards = rewards_with(WebhookNotifier(receiver.url))
        rewards.record(act(1).model_copy(update={"id": activity_id}))
        assert list(rewards.delivery_errors) == []
        ((_path, headers, body),) = receiver.requests
        assert body["id"] == f"recorded:{activity_id}"
        assert headers["Idempotency-Key"] == key == e2badges_reciprocity.idempotency_key(body["id"])
        assert key.isascii()
        assert urllib.parse.unquote(key) == body["id"]

    def test_unreachable_receiver(self) -> None:
        """An unreachable receiver is a reported failure, not an error for record()."""
        # Port 9 (discard) on 127.0.0.1 has no listener here: the connection is refused.
        rewards = rewards_with(WebhookNotifier("http://127.0.0.1:9/", timeout=2))
        rewards.record(act(1))
        assert rewards.balance("ann") == 2
        (failure,) = rewards.delivery_errors
        assert failure.error.startswith("URLError:")

    def test_extra_headers(self, receiver: Receiver) -> None:
        """Configured headers are sent with every post."""
        notifier = WebhookNotifier(receiver.url, headers={"Authorization": "Bearer t0k"})
        rewards_with(notifier).record(act(1))
        assert receiver.requests[0][1]["Authorization"] == "Bearer t0k"

    def test_repr_hides_credentials(self) -> None:
        """The notifier's repr shows the host only, not credentials or the path's token."""
        notifier = WebhookNotifier("https://user:secret@chat.example.com:8443/hooks/T0K3N")
        assert repr(notifier) == "WebhookNotifier('https://chat.example.com:8443/...')"

    @pytest.mark.parametrize(
        ("url", "options", "field"),
        [
            ("ftp://example.com/", {}, "url"),
            ("not a url", {}, "url"),
            ("http://example.com/", {"events": ["badge.given"]}, "events"),
            ("http://example.com/", {"timeout": 0}, "timeout"),
        ],
    )
    def test_options_validated(self, url: str, options: dict[str, Any], field: str) -> None:
        """A bad URL, event name or timeout is a ConfigurationError naming it."""
        with pytest.raises(ConfigurationError) as info:
            WebhookNotifier(url, **options)
        assert info.value.field == field
