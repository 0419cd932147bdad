"""Rewards on a SQLite file, then inside a host app's own transaction.

Run:  python examples/sql_store.py [path/to/rewards.db]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from e2badges import Cap, PointRule, Rewards

RULES = [
    PointRule(id="post", kind="post.created", actor_points=5, caps=(Cap(amount=15),)),
    PointRule(id="like", kind="post.liked", actor_points=1, recipient_points=2),
]


def main(path: Path) -> None:
    url = f"sqlite:///{path}"
    # The embedded default: the first use creates the tables.
    with Rewards(url, rules=RULES) as rewards:
        rewards.record({"id": "like-1", "actor": "bob", "kind": "post.liked", "recipient": "ann"})

        # The host app writes a post and its reward in one transaction.
        engine = sa.create_engine(url)
        posts = sa.Table(
            "posts",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("author", sa.String(50)),
        )
        posts.create(engine, checkfirst=True)
        with engine.begin() as conn:
            conn.execute(posts.insert().values(id=1, author="ann"))
            rewards.record(
                {"id": "post-1", "actor": "ann", "kind": "post.created"}, connection=conn
            )
        # A transaction that rolls back takes its reward with it.
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(posts.insert().values(id=2, author="ann"))
            rewards.record(
                {"id": "post-2", "actor": "ann", "kind": "post.created"}, connection=conn
            )
            trans.rollback()
        engine.dispose()

        print(f"ann has {rewards.balance('ann')} points")  # 2 for the like + 5 for post-1
        for line in rewards.explain("ann"):
            print(f"  {line.activity_id}: {line.rule} +{line.amount}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp) / "rewards.db")
