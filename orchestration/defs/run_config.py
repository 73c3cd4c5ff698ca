"""The run configuration a run of the main job may carry: the full refresh of ``make build``.

``full_refresh`` is configured on the dbt step (:data:`DBT_OP_NAME`, ``DbtBuildConfig`` in
assets/dbt.py); the other steps read it from the run's config: the landing step reads every
file again instead of keeping the tables whose file is unchanged, the scoring assets drop
their history, and the publish log records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Name of the dbt step, the key of its run config.
DBT_OP_NAME = "dbt_models"
#: Name of the second dbt step (the models reading scores), configured by the first's config.
DBT_AFTER_SCORING_OP_NAME = "dbt_models_after_scoring"


def full_refresh_run_config() -> dict[str, Any]:
    """Run config that makes the dbt step rebuild every mart from scratch."""
    return {"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}}


def is_full_refresh(run_config: Mapping[str, Any]) -> bool:
    """Whether a run's config asks for a full refresh."""
    op_config = run_config.get("ops", {}).get(DBT_OP_NAME, {}).get("config") or {}
    return bool(op_config.get("full_refresh", False))
