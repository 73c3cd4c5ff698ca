"""The benchmark: ``make bench`` / ``python -m orchestration.benchmark``.

For each size (customers × ``--months`` months of the project's own demo generator), in one
scratch folder ``<output>/<size>/`` (landing files, warehouse, Dagster instance, dbt target),
one step after the other on the same landing folder:

1. generate the landing files (timed, not compared);
2. the full build, as ``make build`` runs it (``orchestration.commands.run --all-months
   --full-refresh``: load, every dbt model and test, scoring, write-audit-publish);
3. the served warehouse's size (and its ``.wap`` folder's, if anything is left there);
4. a one-month run of the last month of the data on that warehouse (``make month``);
5. the plain SQL script (:mod:`orchestration.benchmark.plain`) over the same landing files
   into a DuckDB file of its own.

Each measured step runs in a child process through :mod:`orchestration.benchmark.measure`:
wall time and the peak RSS of the step's largest process. While a pipeline step runs, the
``run_results.json`` of its dbt invocation is copied as soon as dbt writes it (the run removes
its dbt target folder when the dbt step ends), for the slowest dbt nodes; every node's result is
kept in ``<size>/logs/<step>-dbt-run-results.json``. The run command's progress lines give the
Dagster steps' durations.

Prints a table per size, ratios, a scaling table (seconds per 10,000 customers) and where the
time goes; writes every figure to ``<output>/bench-<UTC time>.json`` (and ``latest.json``).
Nothing here imports Dagster.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration import settings

DEFAULT_SIZES = (10_000, 30_000, 100_000)
PROJECT_DIR = settings.PROJECT_DIR
PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
#: The run command's progress line of a Dagster step: ``[  12.3s] step_key ...`` / ``done``.
STEP_LINE = re.compile(r"\[\s*(?P<at>\d+(?:\.\d+)?)s\] (?P<step>\S+) (?P<what>\.\.\.|done|FAILED)")
SLOWEST_NODES = 15


@dataclass
class StepResult:
    """One measured step."""

    name: str
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    log: str
    #: Dagster step key -> seconds (pipeline steps only).
    dagster_steps: dict[str, float] = field(default_factory=dict)
    #: The slowest dbt nodes of the step's dbt invocations: (unique_id, seconds, status).
    slowest_nodes: list[tuple[str, float, str]] = field(default_factory=list)
    dbt_nodes: int = 0

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class RunResultsCatcher(threading.Thread):
    """Copies every ``run_results.json`` that appears under ``runs_dir`` while it runs.

    The warehouse resource removes a dbt invocation's target folder as soon as the dbt step
    ends, so the file is read while it exists: polled every 50 ms, kept when it parses.
    """

    def __init__(self, runs_dir: Path) -> None:
        super().__init__(daemon=True)
        self.runs_dir = runs_dir
        self.found: dict[Path, dict[str, Any]] = {}
        self._seen: dict[Path, tuple[int, int]] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            self.scan()

    def scan(self) -> None:
        for path in self.runs_dir.glob("*/*/run_results.json"):
            try:
                stat = path.stat()
                key = (stat.st_mtime_ns, stat.st_size)
                if self._seen.get(path) == key:
                    continue
                self.found[path] = json.loads(path.read_text())
                self._seen[path] = key
            except (OSError, ValueError):
                continue  # removed meanwhile, or still being written: try again

    def stop(self) -> list[dict[str, Any]]:
        """Stop polling; the run results found, oldest first."""
        self._stop_event.set()
        self.join()
        return sorted(
            self.found.values(), key=lambda r: r.get("metadata", {}).get("generated_at", "")
        )


def slowest_nodes(
    run_results: list[dict[str, Any]], limit: int = SLOWEST_NODES
) -> list[tuple[str, float, str]]:
    """The ``limit`` dbt nodes with the longest ``execution_time``: (unique_id, s, status)."""
    nodes = [
        (result["unique_id"], float(result.get("execution_time") or 0.0), result.get("status"))
        for run in run_results
        for result in run.get("results", [])
    ]
    return sorted(nodes, key=lambda node: -node[1])[:limit]


def dagster_step_seconds(output: str) -> dict[str, float]:
    """Each Dagster step's duration from the run command's progress lines."""
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for match in STEP_LINE.finditer(output):
        at, step = float(match["at"]), match["step"]
        if not started and match["what"] == "...":
            # Loading the definitions and starting the run, before the first step.
            durations["(run start, before the first step)"] = at
        if match["what"] == "...":
            started[step] = at
        elif step in started:
            durations[step] = at - started[step]
    return durations


def folder_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def human_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}×" if a and b else "–"


def short_node(unique_id: str) -> str:
    """``model.customer_portfolio.customer_concentration`` -> ``model customer_concentration``."""
    parts = unique_id.split(".")
    name = f"{parts[0]} {'.'.join(parts[2:])}" if len(parts) > 2 else unique_id
    return name if len(name) <= 72 else name[:71] + "…"


class Bench:
    """One benchmark invocation: the sizes, the scratch root and the printed progress."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = settings.project_path(args.output)
        self.started = time.perf_counter()

    def say(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[bench {elapsed:7.1f}s] {message}", flush=True)

    def measured(
        self,
        name: str,
        command: list[str],
        folder: Path,
        env: dict[str, str] | None = None,
        runs_dir: Path | None = None,
    ) -> StepResult:
        """Run ``command`` through the measuring wrapper, echoing its output indented."""
        logs = folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        report = logs / f"{slug}.json"
        report.unlink(missing_ok=True)
        catcher = RunResultsCatcher(runs_dir) if runs_dir is not None else None
        if catcher:
            catcher.start()
        self.say(f"{name} ...")
        wrapped = [PYTHON, "-m", "orchestration.benchmark.measure", "--report", str(report), "--"]
        lines: list[str] = []
        with subprocess.Popen(
            wrapped + command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                print(f"      | {line.rstrip()}", flush=True)
        output = "".join(lines)
        (logs / f"{slug}.log").write_text(output)
        run_results = catcher.stop() if catcher else []
        if run_results:
            # Every node's timing, for profiling beyond the slowest few printed here.
            (logs / f"{slug}-dbt-run-results.json").write_text(json.dumps(run_results))
        try:
            measured = json.loads(report.read_text())
        except (OSError, ValueError):
            measured = {"returncode": process.returncode, "wall_seconds": 0, "peak_rss_bytes": 0}
        result = StepResult(
            name=name,
            returncode=int(measured["returncode"]),
            wall_seconds=float(measured["wall_seconds"]),
            peak_rss_bytes=int(measured["peak_rss_bytes"]),
            log=str(logs / f"{slug}.log"),
            dagster_steps=dagster_step_seconds(output) if runs_dir else {},
            slowest_nodes=slowest_nodes(run_results),
            dbt_nodes=sum(len(run.get("results", [])) for run in run_results),
        )
        state = "done" if result.ok else f"FAILED (exit {result.returncode}, log {result.log})"
        self.say(
            f"{name} {state} in {result.wall_seconds:.1f} s, "
            f"peak memory {human_bytes(result.peak_rss_bytes)}"
        )
        return result

    def prepare_manifest(self) -> Path:
        """``dbt parse`` once into ``<output>/manifest``; each size copies the manifest."""
        folder = self.root / "manifest"
        self.say(f"dbt parse: the manifest Dagster loads, into {folder}")
        subprocess.run(
            [DBT, "parse", "--quiet", "--target-path", str(folder), "--log-path", str(folder)],
            cwd=PROJECT_DIR,
            env={
                **os.environ,
                "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
                "DBT_PROJECT_DIR": str(PROJECT_DIR),
            },
            check=True,
        )
        return folder / "manifest.json"

    def generate(self, size: int, folder: Path) -> StepResult | None:
        """The landing files of ``size`` customers; None when ``--reuse-landing`` kept them."""
        landing = folder / "landing"
        params = {
            "customers": size,
            "months": self.args.months,
            "end_month": self.args.end_month,
            "seed": self.args.seed,
            "format": self.args.format,
        }
        stamp = folder / "landing-params.json"
        if (
            self.args.reuse_landing
            and stamp.exists()
            and json.loads(stamp.read_text()) == params
            and landing.is_dir()
        ):
            self.say(f"landing files of {size:,} customers reused from {landing}")
            return None
        shutil.rmtree(landing, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        command = [PYTHON, "-m", "orchestration.demo", "--customers", str(size)]
        command += ["--months", str(self.args.months), "--end-month", self.args.end_month]
        command += ["--seed", str(self.args.seed), "--format", self.args.format]
        command += ["--output", str(landing)]
        result = self.measured("generate demo data", command, folder)
        if result.ok:
            stamp.write_text(json.dumps(params))
        return result

    def bench_size(self, size: int, manifest: Path) -> dict[str, Any]:
        folder = self.root / str(size)
        folder.mkdir(parents=True, exist_ok=True)
        self.say(f"=== {size:,} customers × {self.args.months} months, in {folder}")
        generated = self.generate(size, folder)
        landing = folder / "landing"
        figures: dict[str, Any] = {
            "customers": size,
            "folder": str(folder),
            "landing_bytes": folder_bytes(landing),
            "steps": {},
        }
        if generated is not None:
            figures["steps"]["generate"] = asdict(generated)
            if not generated.ok:
                return figures

        # A fresh warehouse, Dagster instance and dbt target for every size.
        warehouse = folder / "warehouse" / "portfolio.duckdb"
        dagster_home = folder / "dagster_home"
        target = folder / "dagster-target"
        for old in (warehouse.parent, dagster_home, target, folder / "plain"):
            shutil.rmtree(old, ignore_errors=True)
        warehouse.parent.mkdir(parents=True)
        dagster_home.mkdir(parents=True)
        target.mkdir(parents=True)
        shutil.copyfile(
            PROJECT_DIR / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml"
        )
        shutil.copyfile(manifest, target / "manifest.json")
        env = {
            **os.environ,
            "PORTFOLIO_WAREHOUSE": str(warehouse),
            "PORTFOLIO_LANDING_DIR": str(landing),
            "DAGSTER_HOME": str(dagster_home),
            "PORTFOLIO_DAGSTER_TARGET_DIR": str(target),
            "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
            "DBT_PROJECT_DIR": str(PROJECT_DIR),
        }
        run = [PYTHON, "-m", "orchestration.commands.run"]
        build = self.measured(
            "full build",
            [*run, "--all-months", "--full-refresh"],
            folder,
            env=env,
            runs_dir=target / "runs",
        )
        figures["steps"]["full_build"] = asdict(build)
        wap = warehouse.with_name(warehouse.name + ".wap")
        figures["warehouse_bytes"] = folder_bytes(warehouse) + folder_bytes(
            warehouse.with_name(warehouse.name + ".wal")
        )
        figures["wap_bytes"] = folder_bytes(wap)
        self.say(
            f"served warehouse {human_bytes(figures['warehouse_bytes'])}"
            + (f", .wap folder {human_bytes(figures['wap_bytes'])}" if wap.exists() else "")
        )
        if build.ok:
            month = last_month(landing, self.args.end_month)
            figures["month"] = month
            one_month = self.measured(
                f"one-month run {month}",
                [*run, "--month", month],
                folder,
                env=env,
                runs_dir=target / "runs",
            )
            figures["steps"]["one_month"] = asdict(one_month)
            figures["warehouse_bytes_after_month"] = folder_bytes(warehouse)
            figures["wap_bytes_after_month"] = folder_bytes(wap)
        plain_file = folder / "plain" / "plain.duckdb"
        plain = self.measured(
            "plain SQL",
            [PYTHON, "-m", "orchestration.benchmark.plain", "--landing", str(landing)]
            + ["--output", str(plain_file)],
            folder,
        )
        figures["steps"]["plain_sql"] = asdict(plain)
        figures["plain_bytes"] = folder_bytes(plain_file)
        return figures

    def run(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = self.prepare_manifest()
        results: dict[str, Any] = {
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "machine": {
                "cpus": os.cpu_count(),
                "memory_bytes": total_memory(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "format": self.args.format,
            "months": self.args.months,
            "end_month": self.args.end_month,
            "seed": self.args.seed,
            "sizes": {},
        }
        try:
            for size in self.args.sizes:
                results["sizes"][str(size)] = self.bench_size(size, manifest)
                # The figures so far are kept even if a later size is stopped.
                self.write(results)
        except KeyboardInterrupt:
            # Ctrl-C (SIGINT) stops the size under way; the finished sizes are reported.
            results["stopped_during_size"] = size
            self.say(f"stopped during {size:,} customers: reporting the sizes finished")
        path = self.write(results)
        print()
        print(report(results))
        print(f"\nfigures written to {path} (and {self.root / 'latest.json'})")
        failed = [
            f"{size} {step['name']}"
            for size, figures in results["sizes"].items()
            for step in figures["steps"].values()
            if step["returncode"] != 0
        ]
        if failed:
            print(f"failed steps: {', '.join(failed)}")
        return 1 if failed else 0

    def write(self, results: dict[str, Any]) -> Path:
        stamp = results["created"].replace(":", "").replace("-", "").replace("+0000", "Z")
        path = self.root / f"bench-{stamp}.json"
        text = json.dumps(results, indent=2, default=str)
        path.write_text(text)
        (self.root / "latest.json").write_text(text)
        return path


def last_month(landing: Path, default: str) -> str:
    """The last invoice month of the landing files, YYYY-MM (``default`` if unreadable)."""
    from orchestration.landing.loader import LandingError, landing_data_months

    try:
        data = landing_data_months(landing)
    except LandingError:
        return default
    return f"{data.last:%Y-%m}" if data else default


def git_commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    return result.stdout.strip() or None


def total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def _step(figures: dict[str, Any], key: str) -> dict[str, Any] | None:
    step = figures["steps"].get(key)
    return step if step and step["returncode"] == 0 else None


def _seconds(figures: dict[str, Any], key: str) -> float | None:
    step = _step(figures, key)
    return step["wall_seconds"] if step else None


def report(results: dict[str, Any]) -> str:
    """The printed summary: a table per size, ratios, scaling, where the time goes."""
    out: list[str] = []
    sizes = results["sizes"]
    for size, figures in sizes.items():
        months = results["months"]
        out.append(
            f"### {int(size):,} customers × {months} months ({results['format']}, "
            f"landing {human_bytes(figures['landing_bytes'])})"
        )
        out.append("")
        out.append("| step | wall s | peak memory | warehouse size |")
        out.append("|---|---:|---:|---:|")
        rows = [
            ("generate", "generate demo data (not compared)", None),
            (
                "full_build",
                "full build (`make build`)",
                f"{human_bytes(figures.get('warehouse_bytes'))}"
                + (
                    f" (+ .wap {human_bytes(figures['wap_bytes'])})"
                    if figures.get("wap_bytes")
                    else ""
                ),
            ),
            (
                "one_month",
                f"one-month run {figures.get('month', '')} (`make month`)",
                human_bytes(figures.get("warehouse_bytes_after_month")),
            ),
            ("plain_sql", "plain SQL script", human_bytes(figures.get("plain_bytes"))),
        ]
        for key, label, size_text in rows:
            step = figures["steps"].get(key)
            if step is None:
                continue
            wall = f"{step['wall_seconds']:.1f}" if step["returncode"] == 0 else "FAILED"
            out.append(
                f"| {label} | {wall} | {human_bytes(step['peak_rss_bytes'])} | {size_text or '–'} |"
            )
        build, plain, month = (_step(figures, k) for k in ("full_build", "plain_sql", "one_month"))
        build_s, plain_s, month_s = (s and s["wall_seconds"] for s in (build, plain, month))
        build_rss, plain_rss = (s and s["peak_rss_bytes"] for s in (build, plain))
        out.append("")
        out.append(
            f"ratios: full build / plain SQL: time {ratio(build_s, plain_s)}, "
            f"peak memory {ratio(build_rss, plain_rss)}, "
            f"size {ratio(figures.get('warehouse_bytes'), figures.get('plain_bytes'))}; "
            f"one-month run / full build: time {ratio(month_s, build_s)}"
        )
        out.append("")
    if sizes:
        out.append("### Scaling: seconds per 10,000 customers")
        out.append("")
        out.append("| step | " + " | ".join(f"{int(s):,}" for s in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for key, label in (
            ("generate", "generate demo data"),
            ("full_build", "full build"),
            ("one_month", "one-month run"),
            ("plain_sql", "plain SQL"),
        ):
            cells = []
            for size, figures in sizes.items():
                seconds = _seconds(figures, key)
                cells.append(f"{seconds / (int(size) / 10_000):.1f}" if seconds else "–")
            if any(cell != "–" for cell in cells):
                out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")
    for size, figures in sizes.items():
        for key in ("full_build", "one_month"):
            step = figures["steps"].get(key)
            if step is None:
                continue
            out.append(f"### Where the time goes: {step['name']}, {int(size):,} customers")
            out.append("")
            if step["slowest_nodes"]:
                out.append(
                    f"{len(step['slowest_nodes'])} slowest of {step['dbt_nodes']} dbt nodes "
                    "(run_results.json execution_time):"
                )
                out.append("")
                out.append("| dbt node | s | status |")
                out.append("|---|---:|---|")
                for unique_id, seconds, status in step["slowest_nodes"]:
                    out.append(f"| {short_node(unique_id)} | {seconds:.2f} | {status} |")
            else:
                out.append("(no run_results.json was caught for this run)")
            if step["dagster_steps"]:
                out.append("")
                out.append("Dagster steps (from the run command's progress lines):")
                out.append("")
                out.append("| Dagster step | s |")
                out.append("|---|---:|")
                for name, seconds in sorted(step["dagster_steps"].items(), key=lambda s: -s[1]):
                    out.append(f"| {name} | {seconds:.1f} |")
            out.append("")
    return "\n".join(out).rstrip()


def parse_sizes(values: list[str]) -> list[int]:
    """``["10000,30000", "100000"]`` -> ``[10000, 30000, 100000]`` (commas, spaces, ``_``)."""
    sizes = [
        int(part.replace("_", ""))
        for value in values
        for part in re.split(r"[,\s]+", value)
        if part
    ]
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive numbers of customers")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=[",".join(map(str, DEFAULT_SIZES))],
        help="numbers of customers, space- or comma-separated (10000 30000 100000)",
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--output", default="target/bench", help="scratch folder and JSON (target/bench)"
    )
    parser.add_argument("--months", type=int, default=36, help="months of data (36)")
    parser.add_argument("--end-month", default="2026-10", help="last month, YYYY-MM (2026-10)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (42)")
    parser.add_argument(
        "--reuse-landing",
        action="store_true",
        help="keep landing files generated earlier with the same options (no generation step)",
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = parse_sizes(args.sizes)
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(f"--sizes: {error}")
    return Bench(args).run()
