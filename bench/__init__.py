"""Benchmarks: ``make bench`` (``python -m bench [NAME ...]``) runs every ``bench/bench_*.py``.

A bench module offers ``run() -> list[tuple]``: each row is ``(figure, value)`` or
``(figure, value, target, verdict)``. Figures are printed, never asserted: a benchmark is not a
timed test. A module that cannot run here (a missing service) raises ``BenchUnavailable``.
"""


class BenchUnavailable(Exception):
    """The benchmark needs something this machine does not offer; the message says what."""
