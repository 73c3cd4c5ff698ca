"""Performance benchmark of the build: ``make bench`` / ``python -m orchestration.benchmark``.

For each size of generated portfolio it measures the full build, a one-month run and a plain
hand-written DuckDB SQL script computing the same core marts (:mod:`.plain`), each in its own
child process started through :mod:`.measure` (wall time and peak memory), and prints the
figures, their ratios, their scaling across sizes and where the build's time goes. No Dagster
import: the pipeline runs as subprocesses, as ``make build`` and ``make month`` run it.
"""
