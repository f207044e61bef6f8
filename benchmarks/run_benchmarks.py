"""Speed and memory of multi-event studies: our batch engine against the alternatives.

Synthetic panels of N tickers x 20 years (5,040 sessions) of daily market-model returns and E random
events (ticker, day 0); market model, estimation [-250,-11], windows [0,+1] and [-1,+1]. Methods:

* ``floor``       bare numpy: gather the windows, OLS by closed form, CAR t-statistics (the arithmetic floor);
* ``batch``       ``run_study(engine="batch")``: every per-event table and the nine tests for both windows;
* ``loop``        ``run_study(engine="loop")``: our single-event path once per event, the same output;
* ``statsmodels`` the per-event loop of existing packages: one pandas slice of the stock and the market and
  one ``sm.OLS(...).fit()`` per event, then CAR and its CLM variance, t-statistics only;
* ``sm-numpy``    the same loop on numpy slices (the fastest plain statsmodels loop we could write);
* ``eventstudy``  the PyPI package ``eventstudy`` (``Multiple.from_list`` with ``Single.market_model``,
  estimation 240 days, buffer 10) once per window, in its own virtual environment;
* ``duckdb``      ``run_study_parquet``: the panel as a Parquet file (written before the clock starts)
  read out of core by DuckDB, then the batch engine — the ``batch`` output.

Each (method, panel, events) runs in a fresh process that builds the same data from the seed and puts
them in the form the method takes (frames, Parquet file, the package's arrays) before the clock starts,
times the method (the fastest of ``--repeat`` runs for the fast ones: on a shared machine the minimum is the
least disturbed) and reports its peak resident memory.
Slow methods are skipped when the previous size predicts more than ``--budget`` seconds.

    python benchmarks/run_benchmarks.py                      # full grid -> benchmarks/results.md
    python benchmarks/run_benchmarks.py --tickers 500 --events 100 1000 --out /tmp/quick.md
    python benchmarks/run_benchmarks.py --battery --tickers 5000 --events 10000   # floor vs the test battery, one process

``--eventstudy-python`` names an interpreter with ``pip install eventstudy`` (never a dependency of
this project), default ``/tmp/bench-venv/bin/python``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

N_DAYS = 5040
ESTIMATION = (-250, -11)
WINDOWS = ((0, 1), (-1, 1))
HERE = Path(__file__).resolve().parent
DUCKDB_MEMORY = "1GB"
METHODS = ("floor", "batch", "loop", "statsmodels", "sm-numpy", "eventstudy", "duckdb")
#: how a method's time grows with the number of events (the loop's Kolari-Pynnönen step is quadratic)
GROWTH = {"loop": 2, "statsmodels": 1, "sm-numpy": 1, "eventstudy": 1, "duckdb": 1}


def make_data(n_tickers: int, n_events: int, seed: int = 20240601):
    """Returns (T x N, market, alpha + beta R_m + noise), market (T), event tickers and day-0 positions."""
    import numpy as np

    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, N_DAYS)
    beta = rng.uniform(0.5, 1.5, n_tickers)
    sd = rng.uniform(0.01, 0.03, n_tickers)
    returns = (0.0001 + market[None, :] * beta[:, None] + rng.normal(0, 1, (n_tickers, N_DAYS)) * sd[:, None]).T
    tickers = rng.integers(0, n_tickers, n_events)
    day0 = rng.integers(-ESTIMATION[0] + 10, N_DAYS - 12, n_events)
    return returns, market, tickers, day0


def floor(returns, market, tickers, day0):
    """Market-model CAR t-statistics with numpy only: CAR / sqrt(s^2 (L + L^2/n + (sum(R_m - mean))^2 / S_mm))."""
    import numpy as np

    rows = day0[:, None] + np.arange(ESTIMATION[0], max(w[1] for w in WINDOWS) + 1)
    y, x = returns[rows, tickers[:, None]], market[rows]
    n = ESTIMATION[1] - ESTIMATION[0] + 1
    ye, xe = y[:, :n], x[:, :n]
    xbar, ybar = xe.mean(axis=1, keepdims=True), ye.mean(axis=1, keepdims=True)
    dx = xe - xbar
    smm = (dx * dx).sum(axis=1)
    beta = (dx * (ye - ybar)).sum(axis=1) / smm
    alpha = ybar[:, 0] - beta * xbar[:, 0]
    resid = ye - alpha[:, None] - beta[:, None] * xe
    s2 = (resid * resid).sum(axis=1) / (n - 2)
    out = []
    for a, b in WINDOWS:
        cols = slice(a - ESTIMATION[0], b - ESTIMATION[0] + 1)
        L = b - a + 1
        car = (y[:, cols] - alpha[:, None] - beta[:, None] * x[:, cols]).sum(axis=1)
        var = s2 * (L + L * L / n + (x[:, cols] - xbar).sum(axis=1) ** 2 / smm)
        out.append(car / np.sqrt(var))
    return out


def frames(returns, market, tickers, day0):
    """The data as our API takes them: wide returns, the market Series and the events table."""
    import pandas as pd

    dates = pd.bdate_range("2005-01-03", periods=N_DAYS)
    wide = pd.DataFrame(returns, index=dates, columns=[f"T{i}" for i in range(returns.shape[1])])
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(day0))],
            "ticker": [f"T{t}" for t in tickers],
            "event_date": dates[day0],
        }
    )
    return wide, pd.Series(market, index=dates), events


def ours(engine: str):
    def run(wide, market, events, connection=None):
        import warnings

        from incident_impact.eventstudy import run_study, run_study_parquet

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # same-firm overlaps among random events
            if engine == "duckdb":
                result = run_study_parquet(wide, market, events, windows=WINDOWS, connection=connection)
            else:
                result = run_study(wide, market, events, windows=WINDOWS, engine=engine)
        return result.cars, [result.tests(w) for w in WINDOWS]

    return run


def parquet_frames(returns, market, tickers, day0):
    """``frames`` with the panel written as a long Parquet file (date, ticker, return) in a temporary folder,
    and a DuckDB connection limited to ``DUCKDB_MEMORY`` (it spills to a temporary folder beyond that)."""
    import tempfile

    import duckdb

    wide, market, events = frames(returns, market, tickers, day0)
    path = str(Path(tempfile.mkdtemp()) / "returns.parquet")
    con = duckdb.connect()
    con.register("wide", wide.rename_axis("date").reset_index())
    con.execute(f"""COPY (SELECT * FROM (UNPIVOT wide ON COLUMNS(* EXCLUDE (date)) INTO NAME ticker VALUE "return")
                    ORDER BY ticker, date) TO '{path}' (FORMAT parquet)""")
    limited = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "temp_directory": tempfile.mkdtemp()})
    return path, market, events, limited


def statsmodels_loop(returns, market, tickers, day0, slicer):
    """One statsmodels OLS per event on ``slicer(k)`` = (stock, market) rows estimation start .. last window day;
    Var(CAR) = s^2 (L + iota' X* (X'X)^-1 X*' iota)."""
    import numpy as np
    import statsmodels.api as sm

    out = []
    for k in range(len(day0)):
        y, m = slicer(k)
        est = slice(0, ESTIMATION[1] - ESTIMATION[0] + 1)
        fit = sm.OLS(y[est], sm.add_constant(m[est])).fit()
        stats = []
        for a, b in WINDOWS:
            win = slice(a - ESTIMATION[0], b - ESTIMATION[0] + 1)
            X = sm.add_constant(m[win], has_constant="add")
            car = (y[win] - X @ fit.params).sum()
            g = X.sum(axis=0)
            stats.append(car / np.sqrt(fit.scale * (b - a + 1 + g @ fit.normalized_cov_params @ g)))
        out.append(stats)
    return out


def pandas_slices(returns, market, tickers, day0):
    """What a per-event loop over a returns frame does: one pandas slice of the stock and the market per event."""
    wide, market, events = frames(returns, market, tickers, day0)
    columns, span = events["ticker"].tolist(), (ESTIMATION[0], max(w[1] for w in WINDOWS) + 1)

    def slicer(k):
        rows = slice(day0[k] + span[0], day0[k] + span[1])
        return wide[columns[k]].iloc[rows].to_numpy(), market.iloc[rows].to_numpy()

    return returns, market, tickers, day0, slicer


def numpy_slices(returns, market, tickers, day0):
    span = (ESTIMATION[0], max(w[1] for w in WINDOWS) + 1)

    def slicer(k):
        rows = slice(day0[k] + span[0], day0[k] + span[1])
        return returns[rows, tickers[k]], market[rows]

    return returns, market, tickers, day0, slicer


def eventstudy_input(returns, market, tickers, day0):
    """The returns handed to PyPI ``eventstudy`` in its own column format, and its event list."""
    import numpy as np
    from eventstudy import Single

    dates = np.arange(np.datetime64("2005-01-03"), np.datetime64("2005-01-03") + N_DAYS)  # one row per day
    Single._save_parameter(
        "returns", {"date": dates, "MKT": market, **{f"T{i}": returns[:, i] for i in np.unique(tickers)}}
    )
    return (
        [{"event_date": dates[d], "security_ticker": f"T{t}", "market_ticker": "MKT"} for t, d in zip(tickers, day0)],
    )


def eventstudy_pkg(events):
    """PyPI ``eventstudy``: one ``Multiple`` of market-model ``Single`` studies per window."""
    from eventstudy import Multiple, Single

    n = ESTIMATION[1] - ESTIMATION[0] + 1
    return [
        Multiple.from_list(
            [dict(e) for e in events],
            Single.market_model,
            event_window=w,
            estimation_size=n,
            buffer_size=-ESTIMATION[1] - 1 + w[0],
        ).tstat
        for w in WINDOWS
    ]


def _same(*data):
    return data


#: per method: module imported and input prepared before the clock starts, then the timed call
METHOD_SPECS = {
    "floor": ("numpy", _same, floor),
    "batch": ("incident_impact.eventstudy", frames, ours("batch")),
    "loop": ("incident_impact.eventstudy", frames, ours("loop")),
    "statsmodels": ("statsmodels.api", pandas_slices, statsmodels_loop),
    "sm-numpy": ("statsmodels.api", numpy_slices, statsmodels_loop),
    "eventstudy": ("eventstudy", eventstudy_input, eventstudy_pkg),
    "duckdb": ("duckdb", parquet_frames, ours("duckdb")),
}


NOTES = (
    """What the columns compute: *floor*, *statsmodels*, *sm-numpy* and *eventstudy* only the market-model CAR
t-statistics; *batch*, *loop* and *duckdb* the whole study: per-event fits, the tidy per-event CAR table with SQ
p-values, and the eleven tests of `tests()` for each window. The rank tests (one sort of every estimation abnormal
return) and the Kolari-Pynnönen correlations (group sums over the events whose windows share dates) cost about half
a floor each; the plain statsmodels loop is only about 40-60x slower than the floor, so being 25x faster than it
would leave the whole study and its test battery about two floors of time (the one-process comparison below
breaks the battery down). *loop* at 10,000 events is skipped: its Kolari-Pynnönen step compares every
pair of events (pandas correlations over the union of dates), quadratic in the events. *duckdb* reads the panel from
Parquet with DuckDB held to """
    + DUCKDB_MEMORY
    + """ of memory (it spills beyond), so its time includes scanning
and numbering every session of every event ticker."""
)


def battery(n_tickers: int, n_events: int, repeat: int) -> dict:
    """In one process: the floor (best of ``repeat``), then the full battery for both windows (``run_study`` +
    ``tests``, every test it lists) ``1 + repeat`` times, the first call cold (nothing of the study computed
    or imported beyond ``from incident_impact.eventstudy import run_study``), then the floor again; with the
    modules the cold call imported and the load average before and after."""
    import warnings

    from incident_impact.eventstudy import run_study  # what a user's script imports before calling it

    data = make_data(n_tickers, n_events)
    wide, market, events = frames(*data)
    out: dict = {"load": [os.getloadavg()[0]]}

    def timed(fn, n):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return times

    def full():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = run_study(wide, market, events, windows=WINDOWS)
            return [r.tests(w) for w in WINDOWS]

    floor_times = timed(lambda: floor(*data), repeat)
    known = set(sys.modules)
    out["full"] = timed(full, 1 + repeat)  # the first call is the cold one
    new = set(sys.modules) - known
    out["imported"] = sorted(m for m in new if m.rpartition(".")[0] not in new)
    out["floor"] = floor_times + timed(lambda: floor(*data), repeat)
    out["names"] = full()[0].index.tolist()
    out["load"].append(os.getloadavg()[0])
    try:
        from incident_impact.eventstudy.threads import n_threads
    except ImportError:  # code from before the sort ran in threads
        out["threads"] = 1
    else:
        out["threads"] = n_threads()
    return out


def battery_processes(
    n_tickers: int, n_events: int, repeat: int, processes: int, threads: tuple[int | None, ...] = (None,)
) -> dict[int | None, list[dict]]:
    """:func:`battery` in ``processes`` fresh processes per thread setting (each has one cold call), the
    settings alternating (``None``: the default; else ``INCIDENT_IMPACT_THREADS``)."""
    cmd = worker_command(sys.executable, ["--battery-worker"], n_tickers, n_events, repeat)
    runs: dict[int | None, list[dict]] = {t: [] for t in threads}
    for _ in range(processes):
        for t in threads:
            env = dict(os.environ, **({"INCIDENT_IMPACT_THREADS": str(t)} if t else {}))
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=HERE.parent, env=env)
            runs[t].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return runs


def battery_section(groups: list[tuple[str, list[dict]]], n_tickers: int, n_events: int) -> str:
    """The results.md section: one row per process of each ``(label, runs)`` group; the verdict from the
    group labelled ``now``."""

    def ratios(r: dict) -> tuple[float, float]:
        f = min(r["floor"])
        return r["full"][0] / f, min(r["full"][1:]) / f

    runs = dict(groups)["now"]
    names = runs[0]["names"]
    lines = [
        MARKERS[0],
        f"## The test battery against the floor, one process ({n_tickers:,} tickers, {n_events:,} events)",
        "",
        "`python benchmarks/run_benchmarks.py --battery`: each of a few fresh processes builds the panel, "
        "times the floor (bare numpy, market-model CAR t only, best of the repeats before and after), then "
        f"`run_study` + `tests()` for both windows ({len(names)} tests: {', '.join(names)}): the first call cold "
        "(nothing of the study computed or imported beyond `from incident_impact.eventstudy import run_study`), "
        "then the best of the repeats (warm). Load: the 1-minute load average before / after in that process "
        "(2 cores).",
        "",
        "| code | process | threads | floor | full battery, first call | full battery, best | ratio first call | "
        "ratio best | imported by the first call | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for code, group in groups:
        for k, r in enumerate(group, 1):
            cold, warm = ratios(r)
            lines.append(
                f"| {code} | {k} | {r.get('threads', 1)} | {min(r['floor']):.3f} s | {r['full'][0]:.3f} s | "
                f"{min(r['full'][1:]):.3f} s | {cold:.1f}x | {warm:.1f}x | {', '.join(r['imported']) or '-'} | "
                f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
            )
    lines.append("")
    for code, group in groups:
        cold = sorted(ratios(r)[0] for r in group)
        warm = sorted(ratios(r)[1] for r in group)
        verdict = "met" if max(cold) <= 5 else ("met in the median process" if statistics.median(cold) <= 5 else "missed")
        lines.append(
            f"- *{code}*: first call {cold[0]:.1f}-{cold[-1]:.1f}x (median {statistics.median(cold):.1f}x), warm "
            f"{warm[0]:.1f}-{warm[-1]:.1f}x (median {statistics.median(warm):.1f}x)"
            + (f". **Target <= 5x the floor, first call included: {verdict}.**" if code == "now" else ".")
        )
    lines += [
        "",
        BATTERY_NOTES,
        "",
        MARKERS[1],
    ]
    return "\n".join(lines)


def update_section(path: Path, text: str, markers: tuple[str, str]) -> None:
    """Replace the part of ``path`` between ``markers`` by ``text`` (appended when absent); the rest stays."""
    old = path.read_text() if path.exists() else ""
    if markers[0] in old and markers[1] in old:
        head, rest = old.split(markers[0], 1)
        new = head + text + rest.split(markers[1], 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


MARKERS = ("<!-- battery:start -->", "<!-- battery:end -->")
BATTERY_NOTES = """*before*: the batch engine at d942591 (the previous stop), the same harness on the same machine about 25 minutes
earlier (load 0.7-0.8; 2 cores reported as AMD EPYC, as in the grid above: the host behind this machine can change
between sessions, so compare ratios, not seconds, across stops). *now*: this code with its default threads (2 on this machine); *one thread*: the same code
with `INCIDENT_IMPACT_THREADS=1`, its processes alternating with the default ones. With one core kept busy by
another process (load 0.9-1.4, `--one-thread --processes 5`): default 3.4-4.3x (median 3.5x) first call, 3.4-3.5x
warm; one thread 3.3-4.3x (median 3.5x) and 3.3-3.5x.

What changed (every step checked against the previous code's tables and tests on a 3,000-event study with holes,
missing market days, tied returns and three models: equal to 1.7e-15; batch = loop to 1e-10 in
`tests/eventstudy/test_batch*.py`):

* panel placement (`batch_panel.locate`): each event's run of days is taken from a strided (sliding-window) view of
  the column-major wide array, one contiguous block per event instead of an index per value (returns 14 -> 5 ms,
  the market column 10 -> 1.4 ms in isolation); positions as int32.
* the fits (`batch_fit.fit_events`): abnormal returns and the total sum of squares are built block by block of
  512 events through one small scratch array instead of an events x days temporary per term (11 -> 4.6 ms); the
  constant's cross products are counts and row sums; the 2 x 2 inverses and the rank check's eigenvalues in closed
  form instead of LAPACK on 10,000 tiny matrices (tested against `numpy.linalg`).
* the one sort of the estimation ARs (`BatchFit._sorts`: sorted values, integer ranks, standardized values and the
  tie check) runs in blocks of 512 events, the blocks split across the CPUs in threads
  (`eventstudy/threads.py`; NumPy's sorts release the interpreter lock): 33 -> 19-22 ms on two free cores.
* Kolari-Pynnönen group sums (`batch_pairs.group_sum`): `(H - h)(U - u) = H.U - h sum U - u sum H + n h u` with
  `H` the scaled rows' group sums and `h` their means' sums, so neither the centred sums nor gathered copies of
  the partner groups are built; the sparse matrices are built directly in CSR form.
* `run_study`'s glue: `set(wide.columns)` over the text Index of 5,000 tickers cost 3-10 ms (pandas' string Index
  iterates slowly; a list first), the events' screening and benchmark keys without per-event list searches, no
  copy of panel rows when every event is fitted.

Where the time goes now (in-process timers, warm, floor 0.055 s, battery about 0.17 s): `run_study` about 60 ms
(placement 20, fits 20, tables, screening and overlaps 20), the tests of both windows about 110 ms:
Kolari-Pynnönen 35 (the group-ordered copy of the residuals 9, five sparse products 16), the sort 28, the rank
counting of Corrado, Corrado-Zivney and GRANK 31 (six binary searches of 10,000 x L values, 16), the rest 15. The
first call adds 15-25 ms of fresh memory (about 12,000 page faults in the first call, almost none from the third), and in about
one process in ten a 40-90 ms delay spread over unrelated steps (not garbage collection: no full collection
runs; the same host noise moves the floor between 0.05 and 0.07 s), which is why the first-call range is wider
than the warm one."""
GRID_MARKERS = ("<!-- grid:start -->", "<!-- grid:end -->")


def worker(method: str, n_tickers: int, n_events: int, repeat: int) -> None:
    import importlib

    module, prepare, run = METHOD_SPECS[method]
    importlib.import_module(module)
    data = prepare(*make_data(n_tickers, n_events))
    base = memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # restart the peak (VmHWM) at the current size
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(*data)
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "peak_mb": memory("VmHWM"), "data_mb": base}))


def memory(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, MiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) / 1024


def worker_command(python: str, mode: list[str], n_tickers: int, n_events: int, repeat: int) -> list[str]:
    """The command line that runs this script as a worker (``mode``: its flag and arguments)."""
    sizes = ["--tickers", str(n_tickers), "--events", str(n_events), "--repeat", str(repeat)]
    return [python, str(Path(__file__).resolve()), *mode, *sizes]


def run_one(python: str, method: str, n_tickers: int, n_events: int, repeat: int) -> dict:
    cmd = worker_command(python, ["--worker", method], n_tickers, n_events, repeat)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["best"] = min(result["times"])
    return result


def cli_time(repeat: int = 5) -> list[float]:
    """Wall time of ``incident-impact analyze`` on the bundled sample (no download, no report)."""
    exe = Path(sys.executable).with_name("incident-impact")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "analyze", "pepsi-kendall-jenner-ad-2017", "--offline", "--no-report"],
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return times


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) / 2**20
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        float("nan"),
    )
    import numpy, pandas, scipy, statsmodels

    return [
        f"CPU: {cpu}, {os.cpu_count()} cores (shared with other jobs; load average at start {os.getloadavg()[0]:.1f})",
        f"RAM: {mem:.1f} GiB",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}, "
        f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=METHODS)
    ap.add_argument("--tickers", type=int, nargs="+", default=[500, 5000])
    ap.add_argument("--events", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=5, help="runs of the fast methods (the fastest is reported)")
    ap.add_argument("--budget", type=float, default=600, help="skip a method predicted to take longer (s)")
    ap.add_argument("--eventstudy-python", default="/tmp/bench-venv/bin/python")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument(
        "--battery",
        action="store_true",
        help="only the floor-vs-battery comparison in one process (largest --tickers/--events)",
    )
    ap.add_argument("--battery-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--processes", type=int, default=3, help="fresh processes of the --battery measurement")
    ap.add_argument("--battery-before", help="JSON of a --battery-json run of the previous code, shown as 'before'")
    ap.add_argument(
        "--one-thread",
        action="store_true",
        help="--battery: also as many processes with INCIDENT_IMPACT_THREADS=1 (alternating with the default ones)",
    )
    ap.add_argument("--battery-json", help="write the --battery measurements to this JSON file")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.tickers[0], args.events[0], args.repeat)
        return
    if args.battery_worker:
        print(json.dumps(battery(args.tickers[0], args.events[0], args.repeat)))
        return
    if args.battery:
        n_t, n_e = max(args.tickers), max(args.events)
        runs = battery_processes(n_t, n_e, args.repeat, args.processes, (None, 1) if args.one_thread else (None,))
        groups = [("now", runs[None])] + ([("one thread", runs[1])] if args.one_thread else [])
        if args.battery_before:
            groups.insert(0, ("before", json.loads(Path(args.battery_before).read_text())))
        print(json.dumps(groups))
        if args.battery_json:
            Path(args.battery_json).write_text(json.dumps(runs[None]))
        update_section(Path(args.out), battery_section(groups, n_t, n_e), MARKERS)
        print(f"updated {args.out}")
        return
    lines = [
        GRID_MARKERS[0],
        "# Benchmark: multi-event studies",
        "",
        f"Written by `python benchmarks/run_benchmarks.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    lines += [f"- {m}" for m in machine()]
    es_version = (
        subprocess.run(
            [args.eventstudy_python, "-c", "import eventstudy; print(eventstudy.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        or "not installed"
    )
    lines += [f"- PyPI eventstudy {es_version} (in {args.eventstudy_python}'s environment only)", ""]
    rows, results = [], {}
    for n_tickers in args.tickers:
        previous: dict[str, float] = {}
        for n_events in sorted(args.events):
            for method in METHODS:
                grow = (n_events / previous[method][1]) ** GROWTH.get(method, 1) if method in previous else 1
                predicted = previous[method][0] * grow if method in previous else 0
                if predicted > args.budget:
                    res = {"skipped": f"skipped: predicted {predicted / 60:.0f} min"}
                else:
                    python = args.eventstudy_python if method == "eventstudy" else sys.executable
                    res = run_one(python, method, n_tickers, n_events, 1 if method in GROWTH else args.repeat)
                    if "best" in res:
                        previous[method] = (res["best"], n_events)
                results[(n_tickers, n_events, method)] = res
                print(n_tickers, n_events, method, res.get("best", res.get("skipped", res.get("error"))), flush=True)
            rows.append((n_tickers, n_events))
    lines += [
        "## Wall time (s) and peak memory (MiB: the process's peak while the method runs, panel included)",
        "",
        "| tickers | events | " + " | ".join(METHODS) + " |",
        "|---|---|" + "---|" * len(METHODS),
    ]
    for n_tickers, n_events in rows:
        cells = []
        for method in METHODS:
            r = results[(n_tickers, n_events, method)]
            cells.append(
                f"{r['best']:.3f} s / {r['peak_mb']:.0f} MiB"
                if "best" in r
                else r.get("skipped", f"failed: {r.get('error')}")
            )
        lines.append(f"| {n_tickers:,} | {n_events:,} | " + " | ".join(cells) + " |")
    target = (max(args.tickers), max(args.events))
    lines += [
        "",
        f"## Targets ({target[0]:,} tickers, {target[1]:,} events, market model, all tests for two windows)",
        "",
    ]
    t = {m: results.get((*target, m), {}) for m in METHODS}
    batch = t["batch"].get("best")

    def ratio(method: str, goal: str, better: bool) -> str:
        other = t[method].get("best")
        if batch is None or other is None:
            return f"| {method} | {goal} | not measured | |"
        value = other / batch if better else batch / other
        ok = (
            value >= float(goal.split("x")[0].strip("<=> "))
            if better
            else value <= float(goal.split("x")[0].strip("<=> "))
        )
        return f"| {method} | {goal} | {value:.1f}x | {'met' if ok else 'missed'} |"

    lines += [
        "| compared with | target | measured | |",
        "|---|---|---|---|",
        ratio("floor", "<= 5x the floor", False),
        ratio("eventstudy", ">= 10x faster", True),
        ratio("statsmodels", ">= 25x faster", True),
    ]
    if batch is not None:
        peak = t["batch"]["peak_mb"] / 1024
        lines.append(
            f"| peak memory | < 4 GiB | {peak:.2f} GiB (process before the study: {t['batch']['data_mb'] / 1024:.2f} GiB) | "
            f"{'met' if peak < 4 else 'missed'} |"
        )
    lines += ["", NOTES]
    cli = cli_time()
    lines += [
        "",
        f"`incident-impact analyze pepsi-kendall-jenner-ad-2017 --offline --no-report` (bundled sample, "
        f"interpreter start included): median {statistics.median(cli):.2f} s of {len(cli)} runs "
        f"(target < 1.5 s).",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f}.",
        GRID_MARKERS[1],
    ]
    # only this section is rewritten: the battery, scale and startup sections of the file stay
    update_section(Path(args.out), "\n".join(lines), GRID_MARKERS)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
