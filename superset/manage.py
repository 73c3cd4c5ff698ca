"""Set up, serve and export the portfolio dashboard of Superset (run with Superset's python).

Commands (``make superset`` and ``make superset-setup`` run the first two)::

    python superset/manage.py setup    # metadata DB, admin user, import superset/dashboard/
    python superset/manage.py serve    # gunicorn on 127.0.0.1:$SUPERSET_PORT, in the foreground
    python superset/manage.py export   # the dashboard as edited in Superset, back into the YAML

Environment (defaults in brackets):

- ``PORTFOLIO_WAREHOUSE``: the served DuckDB file the dashboard reads [warehouse/portfolio.duckdb]
- ``SUPERSET_HOME``: metadata DB and secret key [.superset/home]
- ``SUPERSET_ADMIN_USER`` [admin] and ``SUPERSET_ADMIN_PASSWORD``: when the password is unset,
  the user is created with a random one, printed once
- ``SUPERSET_PORT`` [8088], ``SUPERSET_WORKERS`` [1]: the web server
- ``SUPERSET_CACHE_DIR``: a freshly migrated metadata DB kept for the next new home, one per
  Superset lock file [.superset/cache]

The dashboard's connection string (``superset/dashboard/databases/``) names the warehouse as
``__PORTFOLIO_WAREHOUSE__``; ``setup`` puts in the absolute path of the served file and
``export`` puts the placeholder back, so no machine's path is committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
DASHBOARD_DIR = HERE / "dashboard"
CONFIG_FILE = HERE / "superset_config.py"
#: Stands for the served warehouse's absolute path in the committed YAML.
WAREHOUSE_PLACEHOLDER = "__PORTFOLIO_WAREHOUSE__"
DASHBOARD_SLUG = "customer-portfolio"
BIN = Path(sys.executable).parent


def _path_setting(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value).expanduser() if value else default
    return path if path.is_absolute() else REPOSITORY / path


def served_warehouse() -> Path:
    """The served warehouse file (``PORTFOLIO_WAREHOUSE``), absolute."""
    return _path_setting("PORTFOLIO_WAREHOUSE", REPOSITORY / "warehouse" / "portfolio.duckdb")


def superset_home() -> Path:
    return _path_setting("SUPERSET_HOME", REPOSITORY / ".superset" / "home")


def superset_env() -> dict[str, str]:
    """The environment of Superset's own commands: this folder's config, the chosen home."""
    return {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        "SUPERSET_HOME": str(superset_home()),
    }


# --- the metadata DB ------------------------------------------------------------------------


def _schema_key() -> str:
    """What a migrated, initialised metadata DB depends on: Superset's pins and this config."""
    digest = hashlib.sha256()
    for path in (HERE / "uv.lock", CONFIG_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def initialise_metadata() -> None:
    """Migrate and initialise the metadata DB of ``$SUPERSET_HOME`` unless already done.

    ``superset db upgrade`` and ``superset init`` take ~40 s on two cores; their result, which
    holds no user, secret or connection, is kept in the cache folder and copied into the next
    new home instead.
    """
    home = superset_home()
    home.mkdir(parents=True, exist_ok=True)
    database, stamp = home / "superset.db", home / "schema.key"
    key = _schema_key()
    if database.exists() and stamp.exists() and stamp.read_text() == key:
        return
    cached = _path_setting("SUPERSET_CACHE_DIR", REPOSITORY / ".superset" / "cache") / (
        f"superset-{key}.db"
    )
    if not database.exists() and cached.exists():
        shutil.copyfile(cached, database)
    else:
        fresh = not database.exists()
        for command in (["db", "upgrade"], ["init"]):
            print(f"==> superset {' '.join(command)}", flush=True)
            result = subprocess.run(
                [str(BIN / "superset"), *command],
                env=superset_env(),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                sys.exit(f"superset {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        if fresh:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(database, partial)
            os.replace(partial, cached)
    stamp.write_text(key)


# --- admin user and dashboard (inside Superset's app) ----------------------------------------


def _ensure_admin(security_manager: Any) -> Any:
    """The admin user; created (password from the environment or random, printed once)."""
    username = os.environ.get("SUPERSET_ADMIN_USER") or "admin"
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    user = security_manager.find_user(username=username)
    if user is None:
        generated = not password
        password = password or secrets.token_urlsafe(12)
        user = security_manager.add_user(
            username,
            "Portfolio",
            "Admin",
            f"{username}@localhost",
            security_manager.find_role("Admin"),
            password=password,
        )
        if not user:
            raise RuntimeError(f"could not create the Superset user {username}")
        if generated:
            print(
                f"==> Superset user {username!r} created with password {password!r} "
                "(shown this once; set SUPERSET_ADMIN_PASSWORD to choose it)",
                flush=True,
            )
    elif password:
        security_manager.reset_password(user.id, password)
    return user


def dashboard_contents(warehouse: Path) -> dict[str, str]:
    """The files of superset/dashboard/ by relative path, the warehouse path filled in."""
    contents = {}
    for path in sorted(DASHBOARD_DIR.rglob("*.yaml")):
        text = path.read_text()
        contents[path.relative_to(DASHBOARD_DIR).as_posix()] = text.replace(
            WAREHOUSE_PLACEHOLDER, str(warehouse)
        )
    return contents


def query_context(params: dict[str, Any], dataset_id: int, chart_id: int) -> dict[str, Any]:
    """The query a chart's saved form data asks for, as Superset's chart data API takes it.

    Superset's browser code builds this when a chart is saved; imported charts have none, and
    ``/api/v1/chart/<id>/data`` (and so any API client, reports or cache warm-up) needs it.
    Covers the chart types of this dashboard: big number, line and bar, table, pie.
    """
    viz = params["viz_type"]
    where = " and ".join(
        f"({f['sqlExpression']})"
        for f in params.get("adhoc_filters", [])
        if f.get("expressionType") == "SQL" and f.get("clause") == "WHERE"
    )
    metrics = params.get("metrics") or ([params["metric"]] if params.get("metric") else [])
    query: dict[str, Any] = {
        "filters": [],
        "extras": {"where": where, "having": ""},
        "row_limit": params.get("row_limit", 10000),
        "series_limit": 0,
        "order_desc": params.get("order_desc", True),
        "custom_params": {},
        "custom_form_data": {},
        "annotation_layers": [],
        "applied_time_extras": {},
        "url_params": {},
    }
    if viz == "big_number_total":
        query |= {"columns": [], "metrics": metrics, "orderby": []}
    elif viz.startswith("echarts_timeseries"):
        x_axis = params["x_axis"]
        base_axis = {
            "columnType": "BASE_AXIS",
            "sqlExpression": x_axis,
            "label": x_axis,
            "expressionType": "SQL",
        }
        if params.get("time_grain_sqla"):
            base_axis["timeGrain"] = params["time_grain_sqla"]
        query |= {
            "columns": [base_axis, *params.get("groupby", [])],
            "metrics": metrics,
            "orderby": [[metrics[0], False]],
        }
    elif viz == "table" and params.get("query_mode") == "raw":
        query |= {
            "columns": params["all_columns"],
            "orderby": [json.loads(order) for order in params.get("order_by_cols", [])],
        }
    elif viz == "pie":
        query |= {
            "columns": params["groupby"],
            "metrics": metrics,
            "orderby": [[metrics[0], False]],
        }
    else:
        raise ValueError(f"no query context for a {viz} chart: save it once in Superset")
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [query],
        "form_data": {**params, "slice_id": chart_id},
        "result_format": "json",
        "result_type": "full",
    }


def import_dashboard() -> None:
    """Import superset/dashboard/ (overwriting what it defines) and save every chart's query."""
    from sqlalchemy.exc import SAWarning
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand
        from superset.models.dashboard import Dashboard
        from superset.utils.core import override_user

        from superset import db, security_manager

        user = _ensure_admin(security_manager)
        db.session.commit()
        warehouse = served_warehouse()
        # SQLAlchemy warns about Superset's own flush handlers on every import: not ours to fix.
        with override_user(user), warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            ImportDashboardsCommand(dashboard_contents(warehouse), overwrite=True).run()
        dashboard = db.session.query(Dashboard).filter_by(slug=DASHBOARD_SLUG).one()
        for chart in dashboard.slices:
            params = json.loads(chart.params)
            chart.query_context = json.dumps(query_context(params, chart.datasource_id, chart.id))
        db.session.commit()
        print(
            f"==> dashboard '{dashboard.dashboard_title}' ({len(dashboard.slices)} charts) "
            f"reads {warehouse}",
            flush=True,
        )
        if not warehouse.exists():
            print("    (no warehouse there yet: make run, or make build)", flush=True)


def export_dashboard() -> None:
    """Write the dashboard as it now is in Superset back into superset/dashboard/."""
    import yaml
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.commands.dashboard.export import ExportDashboardsCommand
        from superset.models.dashboard import Dashboard
        from superset.utils.core import override_user

        from superset import db, security_manager

        user = security_manager.find_user(os.environ.get("SUPERSET_ADMIN_USER") or "admin")
        dashboard = db.session.query(Dashboard).filter_by(slug=DASHBOARD_SLUG).one()
        with override_user(user):
            files = {
                name: content() for name, content in ExportDashboardsCommand([dashboard.id]).run()
            }
    shutil.rmtree(DASHBOARD_DIR)
    for name, text in files.items():
        content = yaml.safe_load(text.replace(str(served_warehouse()), WAREHOUSE_PLACEHOLDER))
        if name.startswith("charts/"):
            content["query_context"] = None  # setup derives it from the parameters
            content["params"]["datasource"] = "__table"  # the id is the metadata DB's
        # File names without the metadata DB's ids, so that an export changes only what changed.
        path = DASHBOARD_DIR / re.sub(r"_\d+(\.yaml)$", r"\1", name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_readable_yaml(content))
    print(f"==> {len(files)} files written to {DASHBOARD_DIR.relative_to(REPOSITORY)}/")


def _readable_yaml(content: object) -> str:
    """YAML as Superset reads it, with multi-line strings (the datasets' SQL) as blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def string(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, string)
    return yaml.dump(content, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


# --- the web server ---------------------------------------------------------------------------


def serve(port: int) -> None:
    """Replace this process by gunicorn serving Superset on 127.0.0.1:``port``."""
    workers = os.environ.get("SUPERSET_WORKERS") or "1"
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        workers,
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--timeout",
        "120",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        # gunicorn's control socket is one path per user (~/.gunicorn): two servers would clash.
        "--no-control-socket",
        "superset.app:create_app()",
    ]
    print(f"==> Superset on http://127.0.0.1:{port}/superset/dashboard/{DASHBOARD_SLUG}/")
    sys.stdout.flush()
    os.execve(command[0], command, superset_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="superset/manage.py", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="metadata DB, admin user, import the dashboard")
    serve_parser = commands.add_parser("serve", help="gunicorn on 127.0.0.1, in the foreground")
    serve_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("SUPERSET_PORT") or 8088)
    )
    commands.add_parser("export", help="write the dashboard back into superset/dashboard/")
    args = parser.parse_args(argv)
    # Superset's app, created in this process by setup and export, reads both.
    os.environ["SUPERSET_HOME"] = str(superset_home())
    os.environ["SUPERSET_CONFIG_PATH"] = str(CONFIG_FILE)
    if args.command == "setup":
        initialise_metadata()
        import_dashboard()
    elif args.command == "serve":
        serve(args.port)
    elif args.command == "export":
        export_dashboard()
    return 0


if __name__ == "__main__":
    sys.exit(main())
