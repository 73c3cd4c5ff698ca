"""Superset's configuration for the portfolio dashboard (SUPERSET_CONFIG_PATH points here).

Everything comes from environment variables with defaults that work from a fresh clone:

- ``SUPERSET_HOME``: Superset's own folder, the metadata DB (SQLite) and the generated secret
  key (default ``.superset/home`` of the repository, ignored by git)
- ``SUPERSET_LOG_LEVEL``: Superset's log level (WARNING)
- ``SUPERSET_SECRET_KEY``: signs sessions and encrypts the stored connection; unset, a random
  key is generated at first start into ``$SUPERSET_HOME/secret_key`` and reused afterwards

Superset only reads the warehouse (the connection is defined in superset/dashboard/databases/);
no example data, no results cache (every chart query reads the served file as it is now), and
nothing that calls out of the machine.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("SUPERSET_HOME") or _REPOSITORY / ".superset" / "home")
HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """``SUPERSET_SECRET_KEY``, or a random key kept in the (git-ignored) Superset home."""
    if key := os.environ.get("SUPERSET_SECRET_KEY"):
        return key
    path = HOME / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DATA_DIR = str(HOME)
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}?check_same_thread=false"
# Superset's examples database is never loaded; point it at the home folder all the same.
SQLALCHEMY_EXAMPLES_URI = f"sqlite:///{HOME / 'examples.db'}?check_same_thread=false"

# Every chart query opens its own read-only connection (Superset's NullPool) and nothing
# caches results: a publish's rename is seen by the next query.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# Superset's defaults: no alerts and reports, no thumbnails (both would need Celery workers and
# a headless browser), no template processing in datasets.
FEATURE_FLAGS: dict[str, bool] = {}

# Superset's INFO lines (permission syncs, configuration loads) drown the useful ones.
LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL") or "WARNING"

# One local user base; the login endpoint keeps its own rate limit.
RATELIMIT_ENABLED = False
SUPERSET_WEBSERVER_TIMEOUT = 120
SQLLAB_TIMEOUT = 120

# No telemetry pixel, map tiles or web fonts: the browser may load from this server only.
_SELF = ["'self'"]
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": _SELF,
        "default-src": _SELF,
        "img-src": [*_SELF, "blob:", "data:"],
        "worker-src": [*_SELF, "blob:"],
        "connect-src": _SELF,
        "object-src": "'none'",
        "style-src": [*_SELF, "'unsafe-inline'"],
        "font-src": _SELF,
        "script-src": [*_SELF, "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
