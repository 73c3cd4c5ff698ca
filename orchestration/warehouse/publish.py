"""Write-audit-publish (WAP) for the DuckDB warehouse file, without any Dagster import.

BI tools read one *served* file, ``$PORTFOLIO_WAREHOUSE``. A run never opens that file: it

1. **writes** into a *candidate*, a byte copy of the served file (or a new file when nothing is
   served yet), loads landing into it and builds the dbt models and Python assets there;
2. **audits** it with the dbt data tests (asset checks) before anything is served;
3. **publishes** it: records the run (with the fingerprint of the landing files it was built
   from) in ``audit.publish_log`` inside the candidate, checkpoints
   and closes it, then swaps it into place with :func:`os.replace`, an atomic rename.

A reader that holds the served file open keeps reading its snapshot (the old inode) until it
reconnects, and a new connection sees the whole new build: never a mix of two runs. A failed or
killed run leaves the served file untouched; only its own candidate remains.

Files, for a served ``warehouse/portfolio.duckdb``::

    warehouse/portfolio.duckdb                     served file
    warehouse/portfolio.duckdb.wap/publish.lock    held while a candidate is swapped in
    warehouse/portfolio.duckdb.wap/<run_id>/portfolio.duckdb   the run's candidate
    warehouse/portfolio.duckdb.wap/<run_id>/base.json          what it was copied from
    warehouse/portfolio.duckdb.wap/<run_id>/owner.lock         locked by the run's process

The candidate keeps the served file's *name*, so that DuckDB's catalog name (taken from the
file name) and dbt's database are the same in the candidate and in the served file; the views
themselves name only ``schema.table`` (the project's ``ref`` and ``source`` macros), so any
copy of the file reads them. It lives in a subfolder of the served file's folder, so the final
rename stays on one file system and is atomic.

Concurrency: each run writes only its own candidate, so runs never contend for a DuckDB lock.
Two runs that both started from the same served file must not both publish (the second would
drop the first one's months): :func:`publish_candidate` refuses a candidate whose origin is no
longer the served file (:class:`PublishConflictError`). The swap itself happens under an
exclusive lock file.

Liveness: the process that prepares a candidate holds an exclusive :func:`fcntl.flock` on the
folder's ``owner.lock`` for the rest of its life (:func:`claim_candidate`). The kernel drops
that lock when the process ends, however it ends (SIGKILL, out of memory, a machine restart),
so a lock that another process *can* take means the candidate's owner is dead:
:func:`sweep_candidates` removes such a candidate at once instead of waiting for it to age. The
folder only appears (renamed from a ``.claim-*`` staging folder) once its lock is held, so a
half-created candidate never looks dead. This relies on the run's steps executing in the
process that claimed the candidate (the code location's ``in_process_executor``).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb

from orchestration.warehouse.comments import TableDescription, comment_on
from orchestration.warehouse.connection import connect_warehouse

#: Schema and table of the publish log, inside the warehouse.
PUBLISH_LOG_SCHEMA = "audit"
PUBLISH_LOG_TABLE = "publish_log"
PUBLISH_LOG_DESCRIPTION = TableDescription(
    table=(
        "One row per published run, oldest first: which months it built and what the served "
        "file held when it was published. Written by the run's last step, inside the "
        "candidate, so a failed run adds no row."
    ),
    columns={
        "run_id": "The Dagster run that built and published the file.",
        "job_name": "The Dagster job of the run (portfolio_job).",
        "first_month": "First as_of_month the run built; null when it built no month.",
        "last_month": "Last as_of_month the run built; null when it built no month.",
        "full_refresh": "The run rebuilt every month from scratch (make build).",
        "row_counts": "Rows of every table of the marts and scoring schemas when published.",
        "published_at": "When the candidate was published (UTC).",
        "landing_fingerprint": (
            "Hash of the landing files' names, sizes and modification times the run read; "
            "the landing sensor starts a run only when the files' hash differs from it."
        ),
    },
)
#: Schemas whose tables are counted into the publish log.
COUNTED_SCHEMAS = ("marts", "scoring")

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BASE_FILE = "base.json"
_LOCK_FILE = "publish.lock"
_OWNER_FILE = "owner.lock"
_CLAIM_PREFIX = ".claim-"
#: A staging folder of :func:`claim_candidate` left by a process killed mid-claim is removed
#: after this many seconds without a change (it holds an empty lock file at most).
_CLAIM_GRACE_SECONDS = 600.0

#: Candidate folders whose ``owner.lock`` this process holds, with the lock's descriptor.
_held: dict[Path, int] = {}


class PublishConflictError(RuntimeError):
    """The served file changed after the candidate was copied from it."""


class CandidateError(RuntimeError):
    """A candidate is missing or not in a state that can be published."""


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path pointed at: device, inode, size and modification time.

    Every publish replaces the served file by a new inode, so a changed identity means another
    run published (or something rewrote the file) in the meantime.
    """

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of_stat(cls, stat: os.stat_result) -> FileIdentity:
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    @classmethod
    def of_path(cls, path: Path) -> FileIdentity | None:
        """The identity of ``path``, or None when it does not exist."""
        try:
            return cls.of_stat(path.stat())
        except FileNotFoundError:
            return None


@dataclass(frozen=True)
class PublishRecord:
    """One row of ``audit.publish_log``: what a run published."""

    run_id: str
    job_name: str
    first_month: date | None
    last_month: date | None
    full_refresh: bool
    row_counts: Mapping[str, int]
    published_at: datetime
    landing_fingerprint: str | None = None


def wap_dir(served: Path) -> Path:
    """The working folder of ``served``'s candidates, next to it."""
    return served.with_name(served.name + ".wap")


def candidate_path(served: Path, run_id: str) -> Path:
    """The candidate file of run ``run_id`` for the served file ``served``.

    Raises:
        ValueError: ``run_id`` is not a plain name (it becomes a folder name).
    """
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a usable run id: {run_id!r}")
    return wap_dir(served) / run_id / served.name


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY
    if path.is_dir():
        flags |= getattr(os, "O_DIRECTORY", 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_prepared(candidate: Path) -> bool:
    """Whether :func:`create_candidate` has prepared ``candidate`` (its run has started)."""
    return (candidate.parent / _BASE_FILE).exists()


def _try_lock(fd: int) -> bool:
    """Take an exclusive flock on ``fd`` without waiting; False when another holder has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _owner_note(run_id: str) -> bytes:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"run {run_id} pid {os.getpid()} host {socket.gethostname()} since {started}\n".encode()


def claim_candidate(served: Path, run_id: str) -> Path:
    """Create run ``run_id``'s candidate folder, owned by this process until it ends.

    The folder's ``owner.lock`` stays locked (:func:`fcntl.flock`) by this process until
    :func:`publish_candidate`, :func:`discard_candidate` or :func:`release_candidate`, or until
    the process ends: the kernel releases it then, even on SIGKILL. The folder is assembled
    under a staging name and renamed into place with its lock already held. Idempotent within
    a process. Returns the folder.

    Raises:
        CandidateError: another live process owns this run's candidate.
    """
    folder = candidate_path(served, run_id).parent
    if folder in _held:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not folder.exists():
        staging = Path(tempfile.mkdtemp(prefix=_CLAIM_PREFIX, dir=folder.parent))
        fd = os.open(staging / _OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # nobody else knows the staging folder: immediate
        os.write(fd, _owner_note(run_id))
        try:
            os.rename(staging, folder)
        except OSError:  # the folder appeared meanwhile: claim it below
            os.close(fd)
            shutil.rmtree(staging, ignore_errors=True)
        else:
            _held[folder] = fd
            return folder
    # An existing folder (made by a version without owner locks, or by a dead process).
    fd = os.open(folder / _OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd):
        os.close(fd)
        raise CandidateError(f"the candidate of run {run_id} is owned by another live process")
    os.ftruncate(fd, 0)
    os.write(fd, _owner_note(run_id))
    _held[folder] = fd
    return folder


def release_candidate(served: Path, run_id: str) -> None:
    """Give up this process's ownership of run ``run_id``'s candidate (if it holds it)."""
    fd = _held.pop(candidate_path(served, run_id).parent, None)
    if fd is not None:
        os.close(fd)  # closing the only descriptor releases the flock


def candidate_owner(served: Path, run_id: str) -> str:
    """Whether the process that prepared run ``run_id``'s candidate is alive.

    ``"live"``: this process or another live one holds its ``owner.lock``; ``"dead"``: nobody
    holds it, so its owner has ended; ``"unknown"``: no lock file (no candidate, or one made
    before candidates had owners).
    """
    folder = candidate_path(served, run_id).parent
    if folder in _held:
        return "live"
    with _dead_owner_lock(folder) as dead:
        if dead is None:
            return "unknown"
        return "dead" if dead else "live"


@contextmanager
def _dead_owner_lock(folder: Path) -> Iterator[bool | None]:
    """Yield True holding ``folder``'s owner lock when its owner is dead, False when it lives,
    None when the folder has no owner lock."""
    try:
        fd = os.open(folder / _OWNER_FILE, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        yield None
        return
    try:
        yield _try_lock(fd)
    finally:
        os.close(fd)


def folder_size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 when it does not exist)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


#: Bytes per system call when copying a file.
_COPY_CHUNK = 64 * 1024 * 1024


def copy_file_contents(source: BinaryIO, target: BinaryIO) -> None:
    """Copy ``source`` into ``target``, both freshly opened (nothing read or written yet).

    The kernel copies (:func:`os.copy_file_range`, which may also share blocks on file systems
    that can), without passing the bytes through this process; where it refuses before the
    first byte (another file system, an old kernel), the bytes are read and written here.
    """
    if hasattr(os, "copy_file_range"):
        copied = 0
        try:
            while n := os.copy_file_range(source.fileno(), target.fileno(), _COPY_CHUNK):
                copied += n
            return
        except OSError as error:
            unsupported = (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)
            if copied or error.errno not in unsupported:
                raise
    shutil.copyfileobj(source, target, length=16 * 1024 * 1024)


def create_candidate(served: Path, run_id: str) -> Path:
    """Prepare run ``run_id``'s candidate and return its path; idempotent within a run.

    The candidate starts as a byte copy of the served file (and of its write-ahead log, if a
    writer left one), so incremental marts keep every month the run does not rebuild; when
    nothing is served yet the candidate does not exist and DuckDB creates it on first connect.
    The served file is only read: a reader holding it open, even read-write, does not block
    the copy. The identity of the copied file is recorded in ``base.json`` for
    :func:`publish_candidate`. This process owns the candidate from here on
    (:func:`claim_candidate`); another live process's candidate is refused (CandidateError).
    """
    candidate = candidate_path(served, run_id)
    claim_candidate(served, run_id)
    base_file = candidate.parent / _BASE_FILE
    if base_file.exists():
        return candidate
    for leftover in (candidate, _wal(candidate)):
        leftover.unlink(missing_ok=True)
    base: FileIdentity | None = None
    try:
        source = open(served, "rb")  # noqa: SIM115 - closed below, after fstat
    except FileNotFoundError:
        source = None
    if source is not None:
        with source, open(candidate, "wb") as target:
            # fstat of the handle we copy from: a publish that replaces the served file while we
            # copy does not change what we read, and the identity names what we did read.
            base = FileIdentity.of_stat(os.fstat(source.fileno()))
            copy_file_contents(source, target)
        if _wal(served).exists():
            shutil.copyfile(_wal(served), _wal(candidate))
    tmp = base_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"served": str(served), "base": base and asdict(base)}))
    os.replace(tmp, base_file)
    return candidate


def candidate_base(candidate: Path) -> FileIdentity | None:
    """The identity of the served file the candidate was copied from (None: nothing served).

    Raises:
        CandidateError: the candidate was never prepared by :func:`create_candidate`.
    """
    base_file = candidate.parent / _BASE_FILE
    if not base_file.exists():
        raise CandidateError(f"no candidate was prepared at {candidate}")
    base = json.loads(base_file.read_text())["base"]
    return FileIdentity(**base) if base else None


def count_rows(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = COUNTED_SCHEMAS
) -> dict[str, int]:
    """Rows of every base table in ``schemas``, keyed ``schema.table``, in name order."""
    placeholders = ", ".join("?" for _ in schemas)
    tables = con.execute(
        f"""
        select schema_name, table_name from duckdb_tables()
        where database_name = current_database() and schema_name in ({placeholders})
        order by schema_name, table_name
        """,
        list(schemas),
    ).fetchall()
    counts: dict[str, int] = {}
    for schema, table in tables:
        (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        counts[f"{schema}.{table}"] = count
    return counts


def write_publish_log(con: duckdb.DuckDBPyConnection, record: PublishRecord) -> None:
    """Append ``record`` to ``audit.publish_log``, creating the table on first use."""
    con.execute(f"create schema if not exists {PUBLISH_LOG_SCHEMA}")
    con.execute(
        f"""
        create table if not exists {PUBLISH_LOG_SCHEMA}.{PUBLISH_LOG_TABLE} (
            run_id varchar not null,
            job_name varchar not null,
            first_month date,
            last_month date,
            full_refresh boolean not null,
            row_counts map(varchar, bigint) not null,
            published_at timestamp not null,
            landing_fingerprint varchar
        )
        """
    )
    # A log written before fingerprints were recorded gains the column.
    con.execute(
        f"alter table {PUBLISH_LOG_SCHEMA}.{PUBLISH_LOG_TABLE} "
        "add column if not exists landing_fingerprint varchar"
    )
    comment_on(con, f"{PUBLISH_LOG_SCHEMA}.{PUBLISH_LOG_TABLE}", PUBLISH_LOG_DESCRIPTION)
    con.execute(
        f"insert into {PUBLISH_LOG_SCHEMA}.{PUBLISH_LOG_TABLE} "
        "(run_id, job_name, first_month, last_month, full_refresh, row_counts, published_at, "
        "landing_fingerprint) values (?, ?, ?, ?, ?, map(?, ?), ?, ?)",
        [
            record.run_id,
            record.job_name,
            record.first_month,
            record.last_month,
            record.full_refresh,
            list(record.row_counts),
            list(record.row_counts.values()),
            record.published_at.astimezone(UTC).replace(tzinfo=None),
            record.landing_fingerprint,
        ],
    )


def latest_landing_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The landing fingerprint of the warehouse's latest load (``landing.load_log``), if any."""
    try:
        rows = con.execute(
            "select landing_fingerprint from landing.load_log order by loaded_at desc limit 1"
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def record_publish(
    candidate: Path,
    *,
    run_id: str,
    job_name: str,
    first_month: date | None,
    last_month: date | None,
    full_refresh: bool,
) -> PublishRecord:
    """Count the candidate's marts, log the publish inside it, checkpoint and close it.

    Returns the record written. After this the candidate is one self-contained file (no
    write-ahead log), ready for :func:`publish_candidate`.
    """
    if not candidate.exists():
        raise CandidateError(f"candidate {candidate} does not exist: nothing was built")
    with connect_warehouse(candidate) as con:
        record = PublishRecord(
            run_id=run_id,
            job_name=job_name,
            first_month=first_month,
            last_month=last_month,
            full_refresh=full_refresh,
            row_counts=count_rows(con),
            published_at=datetime.now(UTC),
            landing_fingerprint=latest_landing_fingerprint(con),
        )
        write_publish_log(con, record)
        con.execute("checkpoint")
    return record


@contextmanager
def file_lock(path: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if needed).

    Raises:
        TimeoutError: the lock stayed taken for ``timeout`` seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"could not lock {path} within {timeout:.0f} s") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def publish_candidate(candidate: Path, served: Path, *, lock_timeout: float = 600.0) -> None:
    """Atomically replace the served file by ``candidate`` and remove the run's folder.

    Under the publish lock: check that the served file is still the one the candidate was
    copied from, flush the candidate to disk, :func:`os.replace` it over the served file and
    flush the folder entry. Readers connected before keep their snapshot; readers that connect
    after see the candidate.

    Raises:
        CandidateError: the candidate is missing or still has a write-ahead log (open writer).
        PublishConflictError: another run published since this candidate was copied; the
            served file is left as it is and the candidate stays for inspection.
    """
    if not candidate.exists():
        raise CandidateError(f"candidate {candidate} does not exist: nothing was built")
    if _wal(candidate).exists():
        raise CandidateError(
            f"candidate {candidate} has a write-ahead log: a connection is still open"
        )
    base = candidate_base(candidate)
    with file_lock(wap_dir(served) / _LOCK_FILE, timeout=lock_timeout):
        if _wal(served).exists():
            raise PublishConflictError(
                f"{_wal(served)} exists: a process is writing {served} in place; not publishing"
            )
        current = FileIdentity.of_path(served)
        if current != base:
            raise PublishConflictError(
                f"{served} changed after this run copied it (another run published); "
                "not publishing, so that run's months are kept. Run this one again."
            )
        _fsync(candidate)
        os.replace(candidate, served)
        _fsync(served.parent)
    shutil.rmtree(candidate.parent, ignore_errors=True)
    fd = _held.pop(candidate.parent, None)
    if fd is not None:
        os.close(fd)


def discard_candidate(served: Path, run_id: str) -> None:
    """Remove run ``run_id``'s candidate folder, if any. The served file is never touched."""
    shutil.rmtree(candidate_path(served, run_id).parent, ignore_errors=True)
    release_candidate(served, run_id)


def candidate_run_ids(served: Path) -> list[str]:
    """Run ids that have a candidate folder for ``served``, sorted."""
    folder = wap_dir(served)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and _RUN_ID.fullmatch(p.name))


def idle_seconds(folder: Path) -> float:
    """Seconds since anything in ``folder`` (or the folder itself) was last modified."""
    paths = [folder, *folder.rglob("*")]
    newest = max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)
    return time.time() - newest


@dataclass(frozen=True)
class RemovedCandidate:
    """A candidate removed by :func:`sweep_candidates`."""

    run_id: str
    #: Bytes its folder held.
    size: int
    #: True: its owner process died before its run ended (the run never reported an end);
    #: False: its run had ended unpublished (failed, or did not include the publish step).
    owner_died: bool


def sweep_candidates(
    served: Path,
    is_finished: Callable[[str], bool],
    *,
    abandoned_after: float | None = None,
    on_owner_died: Callable[[str, int], None] | None = None,
) -> list[RemovedCandidate]:
    """Remove the candidates of runs that ended without publishing, or whose process died.

    Never touches the served file, nor a candidate whose owner process is alive. A candidate
    goes when

    - nobody holds its ``owner.lock``: its owner process has ended. When its run had not ended
      (``is_finished(run_id)`` false: killed with its process), ``on_owner_died(run_id, size)``
      is called first, still under the lock, so the caller can record the run as failed;
    - this process owns it and ``is_finished(run_id)`` (an earlier run executed in this
      process);
    - it has no ``owner.lock`` (made before candidates had owners) and ``is_finished(run_id)``,
      or, when ``abandoned_after`` is given, its folder has not changed for that many seconds.

    Used at the start of a run and by ``python -m orchestration.commands.run --clean-only``.
    Returns what was removed, in run id order.
    """
    removed = []
    for run_id in candidate_run_ids(served):
        folder = candidate_path(served, run_id).parent
        if folder in _held:
            if is_finished(run_id):
                size = folder_size(folder)
                discard_candidate(served, run_id)
                removed.append(RemovedCandidate(run_id, size, owner_died=False))
            continue
        with _dead_owner_lock(folder) as dead:
            if dead is None:  # no owner lock
                abandoned = abandoned_after is not None and idle_seconds(folder) > abandoned_after
                if not (abandoned or is_finished(run_id)):
                    continue
                owner_died = False
            elif not dead:
                continue
            else:
                owner_died = not is_finished(run_id)
            size = folder_size(folder)
            if owner_died and on_owner_died is not None:
                on_owner_died(run_id, size)
            shutil.rmtree(folder, ignore_errors=True)
        removed.append(RemovedCandidate(run_id, size, owner_died))
    _sweep_stale_claims(served)
    return removed


def _sweep_stale_claims(served: Path) -> None:
    """Remove staging folders of claims whose process died before renaming them."""
    folder = wap_dir(served)
    if not folder.is_dir():
        return
    for staging in folder.glob(_CLAIM_PREFIX + "*"):
        if staging.is_dir() and idle_seconds(staging) > _CLAIM_GRACE_SECONDS:
            with _dead_owner_lock(staging) as dead:
                if dead is not False:
                    shutil.rmtree(staging, ignore_errors=True)
