"""Run one command and report its wall time and the peak memory of its largest process.

The benchmark starts each measured step through this wrapper, in a process of its own, so that
each step's peak is its own: after the command ends, ``getrusage(RUSAGE_CHILDREN).ru_maxrss``
is the largest resident set size of any descendant process that was waited for (on Linux, in
KiB) — the largest process of the step (dbt, DuckDB inside it, Dagster's step process), not a
sum over processes. The command's output goes to this process's output unchanged.

Command line::

    python -m orchestration.benchmark.measure --report step.json -- <command> [args ...]

``step.json`` gets ``{"returncode", "wall_seconds", "peak_rss_bytes"}``; the exit status is
the command's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def measure(command: list[str]) -> dict[str, float | int]:
    """Run ``command`` to its end; its exit status, wall seconds and peak RSS in bytes."""
    started = time.perf_counter()
    returncode = subprocess.call(command)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"returncode": returncode, "wall_seconds": wall, "peak_rss_bytes": peak_kib * 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark.measure", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--report", required=True, type=Path, help="JSON file to write")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command [args ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    result = measure(command)
    args.report.write_text(json.dumps(result))
    return int(result["returncode"])


if __name__ == "__main__":
    sys.exit(main())
