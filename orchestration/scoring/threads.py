"""How many threads the scoring models' linear algebra uses.

The logistic regressions of ``cross_sell`` (one per offering) spend their time in many small
matrix-vector products (L-BFGS over 100,000 rows and a few dozen features). For products that
small, OpenBLAS's worker threads cost more than they give: 100,000 rows x 30 features, eight
fits took 1.11 s with two BLAS threads and 0.46 s with one on a two-core machine. The fits
therefore run with one BLAS thread; the process's other numerical work keeps its own setting.

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["BLAS_THREADS", "blas_threads_for_fitting"]

#: BLAS threads while a scoring model fits or predicts.
BLAS_THREADS = 1


@contextmanager
def blas_threads_for_fitting() -> Iterator[None]:
    """Limit BLAS (OpenBLAS, MKL) to :data:`BLAS_THREADS` threads within the block."""
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        yield
