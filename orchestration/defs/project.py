"""The dbt project handle of the code location, and the manifest it loads.

Dagster builds the dbt assets from a *prepared* manifest in ``$PORTFOLIO_DAGSTER_TARGET_DIR``
(default ``target/dagster``, kept apart from the ``target/`` of hand-run dbt commands). The
Makefile rule ``$(DAGSTER_MANIFEST)`` prepares it (``dbt parse``) whenever a file under
models/, macros/, seeds/ or tests/dbt changed. Whoever imports the code location without
``make`` — ``python -m orchestration.commands.run``, ``dagster dev``
(:meth:`DbtProject.prepare_if_dev`),
the daemon — finds it re-parsed when it is missing or older than a dbt file: one line on the
terminal says so, and the parse takes a few seconds. A stale manifest would otherwise fail a
run with ``KeyError: 'model...'`` deep inside the dbt step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration import settings

#: Files whose change makes the manifest stale.
DBT_INPUTS = (
    "dbt_project.yml",
    "packages.yml",
    "profiles/profiles.yml",
    "models",
    "macros",
    "seeds",
    "tests/dbt",
)


def newest_input_mtime(project_dir: Path) -> float:
    """Newest modification time among the dbt inputs (files and folders, for deletions)."""
    newest = 0.0
    for name in DBT_INPUTS:
        root = project_dir / name
        if not root.exists():
            continue
        newest = max(newest, root.stat().st_mtime)
        if root.is_dir():
            for path in root.rglob("*"):
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project_dir: Path, manifest_path: Path) -> bool:
    """True when the manifest is missing or older than a dbt input."""
    if not manifest_path.exists():
        return True
    return manifest_path.stat().st_mtime < newest_input_mtime(project_dir)


def prepare_manifest(project: DbtProject) -> None:
    """``dbt parse`` of ``project`` into its target folder, saying so in one line.

    Raises:
        RuntimeError: dbt cannot parse the project (its own message is included).
    """
    dbt = Path(sys.executable).with_name("dbt")
    target = Path(project.target_path)
    state = "is older than the dbt project" if project.manifest_path.exists() else "is missing"
    print(
        f"==> dbt manifest {project.manifest_path} {state}: dbt parse", file=sys.stderr, flush=True
    )
    result = subprocess.run(
        [
            str(dbt) if dbt.exists() else "dbt",
            "parse",
            "--quiet",
            "--target-path",
            str(target),
            "--log-path",
            str(target),
        ],
        cwd=project.project_dir,
        env={
            **os.environ,
            "DBT_PROJECT_DIR": str(project.project_dir),
            "DBT_PROFILES_DIR": str(project.profiles_dir),
        },
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{result.stdout}{result.stderr}")


DBT_PROJECT = DbtProject(
    project_dir=settings.PROJECT_DIR,
    target_path=settings.dagster_target_dir(),
    profiles_dir=settings.PROJECT_DIR / "profiles",
)

if DBT_PROJECT.preparer.using_dagster_dev():
    if manifest_is_stale(DBT_PROJECT.project_dir, DBT_PROJECT.manifest_path):
        DBT_PROJECT.prepare_if_dev()
elif manifest_is_stale(DBT_PROJECT.project_dir, DBT_PROJECT.manifest_path):
    prepare_manifest(DBT_PROJECT)
