"""The engine benchmark's own arithmetic: its table and its memory sampling."""

from __future__ import annotations

import subprocess
import sys
import time

from orchestration.benchmark.engines import _process_tree_rss, report


def _step(seconds: float, peak_gib: float) -> dict[str, float]:
    return {"returncode": 0, "wall_seconds": seconds, "peak_rss_bytes": peak_gib * 2**30}


def test_report_sums_steps_and_divides_spark_by_duckdb() -> None:
    results = {
        "10000": {
            "duckdb": {"load": _step(20.0, 0.5), "dbt build": _step(80.0, 3.0)},
            "spark": {"load": _step(100.0, 1.0), "dbt build": _step(400.0, 4.5)},
        }
    }
    lines = report(results).splitlines()
    assert lines[2] == "| 10,000 | duckdb | 20.0 | 80.0 | 100.0 | 3.0 GiB |  |"
    # (100 + 400) / (20 + 80) = 5.0; the peak is the larger of the two steps'.
    assert lines[3] == "| 10,000 | spark | 100.0 | 400.0 | 500.0 | 4.5 GiB | 5.0× |"


def test_process_tree_sampling_sees_a_grandchild() -> None:
    """A grandchild that is never waited for by its parent (as PySpark's JVM) is counted."""
    code = "x = bytearray(200 * 2**20); import time; time.sleep(4)"
    parent = subprocess.Popen(
        ["bash", "-c", f"{sys.executable} -c '{code}' & sleep 5"],
    )
    try:
        peak = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            peak = max(peak, _process_tree_rss(parent.pid))
            time.sleep(0.2)
    finally:
        parent.kill()
        parent.wait()
    assert peak >= 200 * 2**20
