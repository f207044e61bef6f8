"""Row blocks of one large array operation run on the machine's cores.

NumPy's sorts release the interpreter lock, so sorting the halves of an (events x days) array in
two threads takes about half the time on two free cores and the same time on one. The number of
threads is the CPUs this process may use, at most :data:`MAX_THREADS`; the environment variable
``INCIDENT_IMPACT_THREADS`` sets it (``1``: everything in the calling thread).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: At most this many threads per operation.
MAX_THREADS = 4
#: Fewer rows than this per thread are not worth a thread.
MIN_ROWS = 2_000


def n_threads() -> int:
    """Threads for one operation: ``INCIDENT_IMPACT_THREADS`` when set to a positive integer, else
    the CPUs available to this process (at most :data:`MAX_THREADS`)."""
    wanted = os.environ.get("INCIDENT_IMPACT_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cpus))


def over_row_blocks(work: Callable[[slice], None], n_rows: int) -> None:
    """``work(rows)`` for consecutive blocks of ``range(n_rows)`` that cover it, in parallel threads
    when there are enough rows (``work`` writes its block's results; the blocks do not overlap)."""
    k = max(1, min(n_threads(), n_rows // MIN_ROWS))
    bounds = [n_rows * i // k for i in range(k + 1)]
    blocks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if k == 1:
        work(blocks[0])
        return
    with ThreadPoolExecutor(k - 1) as pool:
        pending = [pool.submit(work, rows) for rows in blocks[1:]]
        work(blocks[0])
        for future in pending:
            future.result()
