"""The ``model_version`` of the scoring tables: the method and a hash of what a fit depends on.

Every scoring model writes a ``model_version`` on its rows: its method name (bumped by hand when
the method changes) followed by a short hash of everything else that shapes the fit (features,
parameters, the data window), so the version changes when any of them does and is the same
whenever they are: ``churn-logit-v1-`` followed by 12 hexadecimal digits, say.

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["hashed_version"]

#: Hexadecimal digits of the hash kept in a version.
DIGEST_LENGTH = 12


def hashed_version(method: str, spec: Mapping[str, Any]) -> str:
    """``<method>-<digest>``: the first 12 hex digits of the SHA-256 of ``spec`` with
    ``"method": method`` added, as JSON with sorted keys.

    ``spec`` must be JSON-serialisable (dates as ISO strings; tuples hash as lists). Key order
    does not matter; any change of a key or value changes the digest.
    """
    payload = json.dumps({"method": method, **spec}, sort_keys=True)
    return f"{method}-{hashlib.sha256(payload.encode()).hexdigest()[:DIGEST_LENGTH]}"
