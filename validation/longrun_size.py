"""Size of the long-horizon tests under H0 (no abnormal return), by simulation.

Writes ``validation/longrun_results.md``. Run: ``python validation/longrun_size.py [--reps 1000]``
(about 3-4 minutes for 1,000 replications per scenario on one core).

Design. 40 firms, one event each, 1,600 common sessions. Market returns ``R_m = 0.0003 + 0.01 z``;
firm ``i``: ``R_i = beta_i R_m + sigma_i e_i`` with ``beta_i ~ U(0.6, 1.4)``, ``sigma_i ~ U(1 %, 3 %)``
a day, no alpha (H0), ``z`` and ``e`` Student t(4) scaled to unit variance. Scenario "iid t": the
shocks are independent over time. Scenario "GARCH t": the firm shocks are ``e_t = sqrt(h_t) z_t`` with
GARCH(1,1) variance ``h_t = 0.03 + 0.07 e_{t-1}^2 + 0.90 h_{t-1}`` (unit unconditional variance,
persistence 0.97), the volatility clustering of real daily returns. Day 0 of each firm is uniform on sessions
1,200 .. 1,478, so every firm has at least 1,200 pre-event sessions and a full [0, +120].

Per firm and horizon ``h`` in 20, 60, 120 (window ``[0, h]``, market model on [-250, -11]):
the CAR t (CLM variance, Student t with 238 df: the iid-normal band of ``recovery``), the SQ test
against the estimation window's 240 - L + 1 CARs (``sq_p_value_estimation``) and against the whole
pre-event history (``sq_p_value``). Across the 40 events: the BHAR conventional t, the
skewness-adjusted t (LBT 1999) and its bootstrap (1,000 resamples of n/4), and the calendar-time
alpha t (market model on the portfolio, OLS and Newey-West). The numbers of the first replication
are checked against the library (``recovery``, ``bhar_table``, ``calendar_time_alpha``) to 1e-10.

Monte-Carlo standard error of a rejection rate ``p`` over ``R`` replications: ``sqrt(p (1 - p) / R)``
(0.7 points at 5 % for R = 1,000); the single-firm rates pool 40 R firm-tests (firms of one
replication share the market return, which the market model removes, so they are nearly independent).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident_impact.aftermath.longrun import (bhar_table, bootstrap_skewness_adjusted_t, calendar_time_alpha,  # noqa: E402
                                               ols_hac, skewness_adjusted_t)
from incident_impact.aftermath.recovery import recovery  # noqa: E402
from incident_impact.distributions import t_sf  # noqa: E402
from incident_impact.eventstudy import statistics as st  # noqa: E402

N_FIRMS, T, HORIZONS, EST = 40, 1600, (20, 60, 120), (-250, -11)
FIRST_DAY0, LAST_DAY0 = 1200, 1478
ALPHA = 0.05


def t4(rng, shape):
    return rng.standard_t(4, shape) / np.sqrt(2.0)  # unit variance


def simulate(rng, garch: bool):
    m = 0.0003 + 0.01 * t4(rng, T)
    beta = rng.uniform(0.6, 1.4, N_FIRMS)
    sigma = rng.uniform(0.01, 0.03, N_FIRMS)
    z = t4(rng, (N_FIRMS, T))
    if garch:  # h_t = w + a z_{t-1}^2 h_{t-1} + b h_{t-1}, unit unconditional variance, persistence a + b = 0.97
        w, a, b = 0.03, 0.07, 0.90
        h = np.ones(N_FIRMS)
        e = np.empty_like(z)
        for t in range(T):
            e[:, t] = np.sqrt(h) * z[:, t]
            h = w + a * e[:, t] ** 2 + b * h
        z = e
    r = beta[:, None] * m[None, :] + sigma[:, None] * z
    day0 = rng.integers(FIRST_DAY0, LAST_DAY0 + 1, N_FIRMS)
    return m, r, day0


def firm_tests(m, r_i, d0):
    """Per horizon: (car, p_t, p_sq_estimation, p_sq_history) of one firm, market model on [-250, -11]."""
    est = slice(d0 + EST[0], d0 + EST[1] + 1)
    X = np.column_stack([np.ones(240), m[est]])
    xtx_inv = np.linalg.inv(X.T @ X)
    a, b = xtx_inv @ X.T @ r_i[est]
    ar = r_i - a - b * m
    s2 = ar[est] @ ar[est] / 238
    out = {}
    for h in HORIZONS:
        L = h + 1
        car = ar[d0:d0 + L].sum()
        g = np.array([L, m[d0:d0 + L].sum()])
        se = np.sqrt(s2 * (L + g @ xtx_inv @ g))
        p_t = float(2 * t_sf(abs(car / se), 238))
        p_sq_e = st.sq(car, ar[est], L).p_value
        p_sq_h = st.sq(car, ar[:d0], L).p_value
        out[h] = (car, p_t, p_sq_e, p_sq_h)
    return out


def portfolio(m, r, day0, h):
    """Calendar-time equal-weighted portfolio of firms in [0, h]: (returns, market, n_firms) on days with a firm."""
    active = np.zeros((N_FIRMS, T), dtype=bool)
    for i, d0 in enumerate(day0):
        active[i, d0:d0 + h + 1] = True
    n = active.sum(axis=0)
    days = n > 0
    rp = (r * active).sum(axis=0)[days] / n[days]
    return rp, m[days], n[days]


def check_against_library(m, r, day0):
    """The first replication's numbers equal the library's."""
    dates = pd.bdate_range("2000-01-03", periods=T)
    mkt = pd.Series(m, index=dates)
    wide = pd.DataFrame(r.T, index=dates, columns=[f"F{i}" for i in range(N_FIRMS)])
    events = pd.DataFrame({"event_id": wide.columns, "ticker": wide.columns, "day0": dates[day0]})
    for i in range(3):
        rec = recovery(wide[f"F{i}"], mkt, dates[day0[i]])
        mine = firm_tests(m, r[i], day0[i])
        for h in HORIZONS:
            row = rec.horizon(h)
            assert abs(row.car - mine[h][0]) < 1e-10 and abs(row.p_value - mine[h][1]) < 1e-10
            assert row.sq_p_value_estimation == mine[h][2] and row.sq_p_value == mine[h][3]
    bh = bhar_table(wide, mkt, events, [(0, 60)])
    mine = np.array([np.prod(1 + r[i, d:d + 61]) - np.prod(1 + m[d:d + 61]) for i, d in enumerate(day0)])
    assert np.allclose(bh["bhar"].to_numpy(), mine, atol=1e-12)
    ct = calendar_time_alpha(wide, mkt, events, (0, 60))
    rp, mp, _ = portfolio(m, r, day0, 60)
    fit = ols_hac(rp, np.column_stack([np.ones(len(rp)), mp]))
    assert abs(ct.alpha - fit["params"][0]) < 1e-12 and abs(ct.t_hac - fit["params"][0] / fit["se_hac"][0]) < 1e-8


def run(reps: int, seed: int, garch: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counts = {(name, h): [0, 0] for h in HORIZONS for name in
              ("car_t", "sq_estimation", "sq_history", "bhar_t", "bhar_skew_t", "bhar_skew_boot", "ct_ols", "ct_hac")}
    mean_firms = {h: [] for h in HORIZONS}
    for rep in range(reps):
        m, r, day0 = simulate(rng, garch)
        if rep == 0:
            check_against_library(m, r, day0)
        per = [firm_tests(m, r[i], day0[i]) for i in range(N_FIRMS)]
        for h in HORIZONS:
            for k, name in ((1, "car_t"), (2, "sq_estimation"), (3, "sq_history")):
                ps = np.array([f[h][k] for f in per])
                counts[(name, h)][0] += int((ps < ALPHA).sum())
                counts[(name, h)][1] += int(np.isfinite(ps).sum())
            L = h + 1
            bhar = np.array([np.prod(1 + r[i, d:d + L]) - np.prod(1 + m[d:d + L]) for i, d in enumerate(day0)])
            for res in (st.cs_t_named("bhar_t", bhar), skewness_adjusted_t(bhar),
                        bootstrap_skewness_adjusted_t(bhar, n_boot=1000, seed=rep)):
                counts[(res.name, h)][0] += int(res.p_value < ALPHA)
                counts[(res.name, h)][1] += int(np.isfinite(res.p_value))
            rp, mp, n = portfolio(m, r, day0, h)
            fit = ols_hac(rp, np.column_stack([np.ones(len(rp)), mp]))
            a = fit["params"][0]
            for name, se in (("ct_ols", fit["se_ols"][0]), ("ct_hac", fit["se_hac"][0])):
                counts[(name, h)][0] += int(2 * t_sf(abs(a / se), fit["df"]) < ALPHA)
                counts[(name, h)][1] += 1
            mean_firms[h].append(n.mean())
    rows = []
    for (name, h), (rej, n) in counts.items():
        p = rej / n
        rows.append({"test": name, "h": h, "rejection": p, "mc_se": np.sqrt(p * (1 - p) / n), "n_tests": n})
    table = pd.DataFrame(rows).pivot(index="test", columns="h")
    return table, {h: float(np.mean(v)) for h, v in mean_firms.items()}


LABELS = {
    "car_t": "single-firm CAR t (CLM band, iid normal)",
    "sq_estimation": "single-firm SQ, estimation window's 240 - L + 1 CARs",
    "sq_history": "single-firm SQ, whole pre-event history (>= 1,200 sessions)",
    "bhar_t": "BHAR conventional t (n = 40)",
    "bhar_skew_t": "BHAR skewness-adjusted t (LBT 1999)",
    "bhar_skew_boot": "BHAR bootstrapped skewness-adjusted t (n_b = 10, B = 1,000)",
    "ct_ols": "calendar-time alpha, OLS t",
    "ct_hac": "calendar-time alpha, Newey-West t",
}


READING = """## Reading

* **Single-firm CAR t (the iid-normal CLM band).** With independent fat-tailed shocks it keeps its size
  at every horizon (5.2-5.3 %): over 21-121 days the sum of t(4) shocks is close to normal. With
  volatility clustering it over-rejects a little (6.3-6.6 %): the estimation window's variance is not the
  event window's. `recovery` says so beside every p-value.
* **SQ against the estimation window alone is unusable at long horizons**: 10.8 % / 24.8 % / 47.7 % at
  [0,+20] / [0,+60] / [0,+120]. The 240 - L + 1 overlapping windows are few and, as in-sample residuals
  summing to zero, their L-day sums have about sigma^2 L (1 - L/240) variance. `recovery` therefore
  reports it only as `sq_p_value_estimation`.
* **SQ against the whole pre-event history** (the `sq_p_value` of `recovery`, >= 1,200 sessions here) is
  near nominal at [0,+20] (5.7-6.0 %, ~60 non-overlapping windows) but over-rejects as the windows grow:
  7.7-8.0 % at [0,+60] (~20 non-overlapping) and 10.8-11.6 % at [0,+120] (~10): the empirical tail of a
  few effectively independent long-window CARs is too thin. Read it with `n_sq_independent`: below
  about 20 non-overlapping windows, treat an SQ p below 0.05 as roughly p < 0.10. The placebo-date p
  (placebo CARs over the same history) rests on the same few independent windows and should be read
  the same way (not simulated here: it refits the model at every date).
* **BHAR, n = 40**: the conventional t is close to nominal here (4.1-5.6 %); LBT's skewness adjustment
  moves it by less than a point (5.0-6.3 %, slightly liberal under GARCH); the bootstrapped version is
  the closest to 5 % in both scenarios (4.5-5.4 %). The skewness LBT correct for comes from
  compounding over years; over at most 121 sessions it is mild.
* **Calendar-time alpha**: OLS and Newey-West t are both near nominal (4.0-6.1 %), with 3 (h = 20) to
  12.5 (h = 120) firms a day. With the catalog (1.2-1.9 firms a day) most portfolio days hold one firm:
  the test is then close to a pooled time-series test of those firms.
"""


def markdown(results: dict, reps: int, seconds: float) -> str:
    lines = ["# Size of the long-horizon tests (validation/longrun_size.py)", "",
             f"Rejection rate at the nominal 5 % level under H0 (no abnormal return), {reps} replications per scenario "
             f"of 40 events; Monte-Carlo standard error in brackets (percentage points). Runtime {seconds:.0f} s. "
             "Design in the script's docstring: market model with Student t(4) shocks, beta ~ U(0.6, 1.4), "
             "idiosyncratic s.d. 1-3 % a day; 'GARCH t' adds GARCH(1,1) volatility clustering (persistence 0.97).", ""]
    for scen, (table, firms) in results.items():
        lines += [f"## {scen}", "", "| test | [0,+20] | [0,+60] | [0,+120] |", "|---|---|---|---|"]
        for name, label in LABELS.items():
            cells = [f"{100 * table.loc[name, ('rejection', h)]:.1f} % ({100 * table.loc[name, ('mc_se', h)]:.1f})"
                     for h in HORIZONS]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += ["", "Average firms per calendar-time portfolio day: "
                  + ", ".join(f"[0,+{h}] {v:.1f}" for h, v in firms.items()), ""]
    return "\n".join(lines + [READING])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--out", default=str(Path(__file__).with_name("longrun_results.md")))
    args = parser.parse_args()
    start = time.time()
    results = {"iid t": run(args.reps, args.seed, garch=False), "GARCH t": run(args.reps, args.seed + 1, garch=True)}
    text = markdown(results, args.reps, time.time() - start)
    Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
