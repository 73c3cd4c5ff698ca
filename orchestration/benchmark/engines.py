"""Benchmark: the same dbt project on DuckDB and on local Apache Spark, per portfolio size.

For each size it generates the demo landing files (customers × 36 months to 2026-10, seed 42,
into ``<output>/<size>/landing``; reused with ``--reuse-landing``), then, one engine after the
other on those files:

- DuckDB: the loader into a fresh DuckDB file, then ``dbt build --full-refresh`` (every model
  and data test; no unit tests) on the ``dev`` target;
- Spark: the loader with ``--engine spark`` into a fresh local Spark warehouse, then the same
  ``dbt build`` on the ``spark`` target (PySpark in the dbt process: ``PORTFOLIO_SPARK_MASTER``,
  default ``local[2]``, and ``PORTFOLIO_SPARK_DRIVER_MEMORY``, default 4g).

Each step runs through :mod:`orchestration.benchmark.measure` in a process of its own: wall
seconds and the peak resident memory of its largest process. Spark's JVM is started by
PySpark and never waited for, so the wrapper's ``getrusage`` misses it: the step's process
tree is also sampled from ``/proc`` every half second, and the larger of the two peaks is
reported. Prints a table and writes every figure to
``<output>/engines-<UTC time>.json``. It is not a test: it fails only when a step fails.

Command line (``make bench-spark``)::

    python -m orchestration.benchmark.engines --sizes 10000 100000 [--reuse-landing]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from orchestration import settings

BIN_DIR = Path(sys.executable).parent
ENGINES = ("duckdb", "spark")


def _say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _process_tree_rss(root: int) -> int:
    """The largest resident set (bytes) of ``root`` and its descendants, from ``/proc``."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1]) * 1024
    largest = 0
    for pid, size in rss.items():
        ancestor = pid
        while ancestor not in (0, 1, root) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            largest = max(largest, size)
    return largest


def _measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, float | int]:
    """Run ``command`` through the measuring wrapper, its output into ``log``."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report, log.open("w") as out:
        wrapper = [sys.executable, "-m", "orchestration.benchmark.measure"]
        process = subprocess.Popen(
            [*wrapper, "--report", report.name, "--", *command],
            env=env,
            cwd=settings.PROJECT_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        sampled = 0
        while process.poll() is None:
            sampled = max(sampled, _process_tree_rss(process.pid))
            time.sleep(0.5)
        code = process.returncode
        figures = json.loads(Path(report.name).read_text())
        figures["peak_rss_bytes"] = max(figures["peak_rss_bytes"], sampled)
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {code}); see {log}")
    return figures


def bench_engine(engine: str, landing: Path, folder: Path) -> dict[str, dict]:
    """Load and build ``landing`` on ``engine`` in ``folder`` (emptied first)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(settings.PROJECT_DIR / "profiles"),
        "DBT_PROJECT_DIR": str(settings.PROJECT_DIR),
        "PORTFOLIO_WAREHOUSE": str(folder / "portfolio.duckdb"),
        "PORTFOLIO_SPARK_DIR": str(folder / "spark"),
        "PORTFOLIO_DBT_TARGET": "spark" if engine == "spark" else "dev",
    }
    load = [sys.executable, "-m", "orchestration.landing", "load", "--engine", engine]
    load += ["--landing-dir", str(landing)]
    build = [str(BIN_DIR / "dbt"), "build", "--full-refresh"]
    build += ["--exclude-resource-type", "unit_test"]
    build += ["--target-path", str(folder / "dbt-target"), "--log-path", str(folder / "logs")]
    figures = {}
    for step, command in (("load", load), ("dbt build", build)):
        _say(f"{engine}: {step} …")
        figures[step] = _measured(command, env, folder / f"{step.replace(' ', '-')}.log")
        _say(f"{engine}: {step} {figures[step]['wall_seconds']:.1f} s")
    return figures


def _gib(value: float) -> str:
    return f"{value / 2**30:.1f} GiB"


def report(results: dict[str, dict]) -> str:
    """The figures as a Markdown table, with Spark's time over DuckDB's per size."""
    lines = [
        "| customers | engine | load s | dbt build s | total s | peak memory | Spark / DuckDB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, engines in results.items():
        totals = {
            engine: sum(step["wall_seconds"] for step in steps.values())
            for engine, steps in engines.items()
        }
        for engine, steps in engines.items():
            peak = max(step["peak_rss_bytes"] for step in steps.values())
            ratio = ""
            if engine == "spark" and "duckdb" in totals:
                ratio = f"{totals['spark'] / totals['duckdb']:.1f}×"
            lines.append(
                f"| {int(size):,} | {engine} | {steps['load']['wall_seconds']:.1f} "
                f"| {steps['dbt build']['wall_seconds']:.1f} | {totals[engine]:.1f} "
                f"| {_gib(peak)} | {ratio} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark.engines",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--output", type=Path, default=settings.PROJECT_DIR / "target/bench")
    parser.add_argument(
        "--reuse-landing", action="store_true", help="keep landing files generated before"
    )
    args = parser.parse_args(argv)
    results: dict[str, dict] = {}
    for size in args.sizes:
        landing = args.output / str(size) / "landing"
        if not (args.reuse_landing and (landing / "invoice_lines.csv").exists()):
            _say(f"{size:,} customers: generating the landing files …")
            shutil.rmtree(landing, ignore_errors=True)
            subprocess.check_call(
                [
                    sys.executable,
                    "-m",
                    "orchestration.demo",
                    "--customers",
                    str(size),
                    "--months",
                    str(args.months),
                    "--end-month",
                    "2026-10",
                    "--seed",
                    "42",
                    "--output",
                    str(landing),
                    "--quiet",
                ],
                cwd=settings.PROJECT_DIR,
            )
        results[str(size)] = {
            engine: bench_engine(engine, landing, args.output / str(size) / f"engine-{engine}")
            for engine in args.engines
        }
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"engines-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nfigures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
