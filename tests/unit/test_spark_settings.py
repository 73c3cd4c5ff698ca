"""The Python side's Spark session is configured exactly as the dbt profile's ``spark``
target, so the loader, the scoring steps and dbt share one catalogue."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

from orchestration import settings
from orchestration.warehouse.spark import session_config

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "profiles.yml"


def _rendered_spark_output(environ: dict[str, str]) -> dict:
    """The profile's spark output rendered as dbt renders it (env_var with a default)."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in environ:
            return environ[name]
        if default is None:
            raise KeyError(name)
        return default

    text = jinja2.Environment().from_string(PROFILE.read_text()).render(env_var=env_var)
    return yaml.safe_load(text)["customer_portfolio"]["outputs"]["spark"]


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "PORTFOLIO_SPARK_DIR": "/srv/spark",
            "PORTFOLIO_SPARK_MASTER": "local[8]",
            "PORTFOLIO_SPARK_DRIVER_MEMORY": "12g",
            "PORTFOLIO_SPARK_SHUFFLE_PARTITIONS": "64",
        },
    ],
)
def test_session_config_equals_the_profile(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "PORTFOLIO_SPARK_DIR",
        "PORTFOLIO_SPARK_MASTER",
        "PORTFOLIO_SPARK_DRIVER_MEMORY",
        "PORTFOLIO_SPARK_SHUFFLE_PARTITIONS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    output = _rendered_spark_output(environ)
    assert output["type"] == "spark" and output["method"] == "session"
    parameters = {key: str(value) for key, value in output["server_side_parameters"].items()}
    expected = session_config()
    if "PORTFOLIO_SPARK_DIR" not in environ:
        # The profile's default is relative to dbt's working directory, the project root.
        default = str(settings.spark_dir())
        parameters = {
            key: value.replace(settings.DEFAULT_SPARK_DIR, default, 1)
            for key, value in parameters.items()
        }
    assert parameters == expected


def test_dbt_target_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTFOLIO_DBT_TARGET", raising=False)
    assert settings.dbt_target() == "dev"
    monkeypatch.setenv("PORTFOLIO_DBT_TARGET", "spark")
    assert settings.dbt_target() == "spark"
    monkeypatch.setenv("PORTFOLIO_DBT_TARGET", "postgres")
    with pytest.raises(settings.SettingError, match="dev or spark"):
        settings.dbt_target()
