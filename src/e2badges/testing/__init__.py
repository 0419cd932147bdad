"""Tools for testing apps and stores that use e2badges.

- ``e2badges.testing.pytest_plugin``: the pytest plugin (fixtures ``e2badges_*``),
  loaded through the ``pytest11`` entry point;
- ``e2badges.testing.strategies``: hypothesis strategies (needs the ``hypothesis``
  extra);
- ``e2badges.testing.conformance``: the Store conformance suite (needs pytest and
  hypothesis: the ``testing`` extra).

Nothing is imported here, so importing one tool never imports another's
dependencies.
"""
