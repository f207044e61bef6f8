"""Row blocks in threads (:mod:`incident_impact.eventstudy.threads`)."""

from __future__ import annotations

import threading

import pytest
from incident_impact.eventstudy import threads


@pytest.mark.parametrize(("n_rows", "wanted", "blocks"), [(10, "3", 3), (10, "1", 1), (2, "4", 2), (0, "2", 1)])
def test_blocks_cover_every_row_once(n_rows, wanted, blocks, monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_THREADS", wanted)
    monkeypatch.setattr(threads, "MIN_ROWS", 1)
    seen: list[tuple[int, int, int]] = []
    together = threading.Barrier(blocks, timeout=10)  # every block waits for the others: they run at once

    def work(rows: slice) -> None:
        seen.append((rows.start, rows.stop, threading.get_ident()))
        together.wait()

    threads.over_row_blocks(work, n_rows)
    spans = sorted((a, b) for a, b, _ in seen)
    assert len(spans) == blocks
    assert [a for a, _ in spans] == [0] + [b for _, b in spans[:-1]] and spans[-1][1] == n_rows
    assert len({t for *_, t in seen}) == blocks  # one thread per block, the caller's among them
    assert threading.get_ident() in {t for *_, t in seen}


def test_few_rows_stay_in_the_calling_thread(monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_THREADS", "4")
    seen = []
    threads.over_row_blocks(lambda rows: seen.append((rows, threading.get_ident())), threads.MIN_ROWS + 5)
    assert seen == [(slice(0, threads.MIN_ROWS + 5), threading.get_ident())]


def test_an_error_in_a_block_reaches_the_caller(monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_THREADS", "2")
    monkeypatch.setattr(threads, "MIN_ROWS", 1)

    def work(rows: slice) -> None:
        if rows.start > 0:
            raise ValueError("second block")

    with pytest.raises(ValueError, match="second block"):
        threads.over_row_blocks(work, 4)


@pytest.mark.parametrize(("value", "expected"), [("2", 2), ("0", None), ("two", None), ("-1", None), ("", None)])
def test_the_thread_count_setting(value, expected, monkeypatch):
    """A positive integer is used as given; anything else falls back to the CPUs (at most MAX_THREADS)."""
    monkeypatch.setenv("INCIDENT_IMPACT_THREADS", value)
    n = threads.n_threads()
    assert n == expected if expected is not None else 1 <= n <= threads.MAX_THREADS
