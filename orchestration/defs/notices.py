"""Notices: what a step did differently from a plain run, shown on the run command's terminal.

A step logs a notice with :func:`notice` (a warning in Dagster's log, prefixed with
:data:`NOTICE_PREFIX`); ``python -m orchestration.commands.run`` prints every log line that starts
with the prefix next to its step progress, and leaves the rest of Dagster's log (libraries'
warnings included) in the run's log file.
"""

from __future__ import annotations

from typing import Any

#: How a notice starts in Dagster's log.
NOTICE_PREFIX = "notice: "


def notice(context: Any, message: str) -> None:
    """Log ``message`` as a notice of the step whose execution context is ``context``."""
    context.log.warning(NOTICE_PREFIX + message)


def notice_text(log_message: str) -> str | None:
    """The notice a log line carries (without the prefix), or None when it is not one."""
    if log_message.startswith(NOTICE_PREFIX):
        return log_message[len(NOTICE_PREFIX) :]
    return None
