"""The dbt project handle of the code location, and the manifest it loads.

Importing this module never runs dbt except under ``dagster dev``. Dagster builds the dbt assets
from a *prepared* manifest in ``$PORTFOLIO_DAGSTER_TARGET_DIR`` (default ``target/dagster``, kept
apart from the ``target/`` of hand-run dbt commands):

- ``dagster dev`` (``make dev``): :meth:`DbtProject.prepare_if_dev` runs ``dbt parse`` when the
  manifest is missing or older than a dbt file, so edits show up on reload. The step processes
  of a run then find it fresh and do not parse again.
- Everything else — ``make build``/``run``/``load``/``validate``, CI, the daemon's scheduled
  runs — uses the manifest prepared by the Makefile rule ``$(DAGSTER_MANIFEST)`` (``dbt parse``
  when a file under models/, macros/, seeds/ or tests/dbt changed), or by hand:
  ``dbt parse --target-path target/dagster``. The tests prepare their own
  (tests/orchestration/conftest.py). A missing manifest is an error that says so; a stale one
  is a warning.
"""

from __future__ import annotations

import warnings
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


DBT_PROJECT = DbtProject(
    project_dir=settings.PROJECT_DIR,
    target_path=settings.dagster_target_dir(),
    profiles_dir=settings.PROJECT_DIR / "profiles",
)

if DBT_PROJECT.preparer.using_dagster_dev():
    if manifest_is_stale(DBT_PROJECT.project_dir, DBT_PROJECT.manifest_path):
        DBT_PROJECT.prepare_if_dev()
elif not DBT_PROJECT.manifest_path.exists():
    raise FileNotFoundError(
        f"no dbt manifest at {DBT_PROJECT.manifest_path}: prepare it with `make validate` "
        f"or `dbt parse --target-path {DBT_PROJECT.manifest_path.parent}` "
        "(see orchestration/project.py)"
    )
elif manifest_is_stale(DBT_PROJECT.project_dir, DBT_PROJECT.manifest_path):
    warnings.warn(
        f"the dbt manifest {DBT_PROJECT.manifest_path} is older than the dbt project; "
        "re-run `dbt parse` into that folder (the Makefile targets do it)",
        stacklevel=1,
    )
