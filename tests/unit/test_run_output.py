"""The run command's terminal lines: the root cause of a failure, not Dagster's wrapper."""

from dagster._utils.error import SerializableErrorInfo

from orchestration.commands.run import failure_summary
from orchestration.defs.notices import notice, notice_text


def error(message: str, cause: SerializableErrorInfo | None = None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=None, cause=cause)


def test_a_python_step_failure_shows_the_innermost_exception() -> None:
    inner = error(
        "orchestration.defs.assets.landing.ExportsDoNotReachError: the run asks for 2026-11 but "
        "the exports in /x do not cover it (invoice months 2023-11..2026-10); nothing is "
        "published\n"
    )
    wrapped = error(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while "
        'executing op "landing_tables":\n',
        cause=inner,
    )
    lines = failure_summary(wrapped)
    assert all(len(line) <= 150 for line in lines)
    assert " ".join(line.strip() for line in lines) == (
        "orchestration.defs.assets.landing.ExportsDoNotReachError: the run asks for 2026-11 "
        "but the "
        "exports in /x do not cover it (invoice months 2023-11..2026-10); nothing is published"
    )


def test_a_dbt_step_failure_shows_dbt_errors_only() -> None:
    dbt = error(
        "dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process failed.\n\n"
        "Errors parsed from dbt logs:\n\n"
        "Database Error in model month_spine (models/utilities/month_spine.sql)\n"
        "  Conversion Error: invalid date\n",
        cause=error("KeyError: 'unrelated'\n"),
    )
    assert failure_summary(dbt) == [
        "Database Error in model month_spine (models/utilities/month_spine.sql)",
        "  Conversion Error: invalid date",
    ]


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, message: str) -> None:
        self.lines.append(message)


class _Context:
    def __init__(self) -> None:
        self.log = _Log()


def test_a_steps_notice_reaches_the_terminal_and_other_warnings_do_not() -> None:
    context = _Context()
    notice(context, "rebuilding 1 monthly marts whole")
    (logged,) = context.log.lines
    assert notice_text(logged) == "rebuilding 1 monthly marts whole"
    assert notice_text("Logging an `AssetObservation` instead of an `AssetCheckResult`") is None
