"""Monte Carlo checks of the GARCH and thin-trading normal-return models (issue 16, items 1 and 2).

Run from the repository root (about 6 minutes of one core)::

    python validation/models_sim.py            # writes validation/models_results.md
    python validation/models_sim.py --quick    # a smoke run, printed only

Part A — size of the single-event t-test (CAR / SE against Student's t, 5 % two-sided) when the
stock's market-model errors follow a GARCH(1,1) (omega such that the unconditional s.d. is 2 % a day,
alpha1 = 0.10, beta1 = 0.88; market i.i.d. N(0.03 %, 1 %), beta = 1, no event effect), for the OLS
market model and the ``garch`` / ``egarch`` models, all through ``event_study`` with the default
estimation window [-250,-11]. Day 0 is drawn in one of three states:

* *random*: any day of the path;
* *high volatility*: among the days whose conditional variance on day -10 (the one-step forecast
  from the end of the estimation window, known when the window closes) is in the top decile **of
  the path**. The decile is computed on the whole path, later days included, so the selection uses
  hindsight: a day qualifies only if the path's later variance does not crowd it out of the top
  decile, i.e. the draw favours days after which variance falls faster than the process predicts;
* *high volatility (ex ante)*: a random day of a fresh path, kept when its day -10 conditional
  variance exceeds the 90th percentile of the process's stationary distribution (a fixed number,
  :func:`stationary_q90`), else a new path is drawn. The condition is known when the estimation
  window closes, so the draw is the process conditioned on that information and nothing later.

Beside the models, the ``oracle`` row standardises the true errors by the true variance forecast
from the end of the estimation window, ``E_T h_{T+s} = s^2 + (alpha1 + beta1)^(s-1) (h_{T+1} - s^2)``
(``s`` = 11 for day 0): the best any model fitted on the estimation window can do, hence the size
the selection rule allows. The pooled row adds N = 10 events: ``Z = sum_i SCAR_i / sqrt(N)``
against N(0, 1). A second table shows the GARCH fits: persistence and forecast / oracle ratios.

Part B — thin trading: the observed price keeps yesterday's value with probability ``pi`` per day
(the move accumulates until the next trade), true beta 1, market i.i.d.; 250-day windows. The mean
OLS, Scholes-Williams and Dimson (k = 1) betas with their Monte Carlo standard errors, beside the
theoretical values ``1 - pi`` (OLS) and ``1 - pi^2`` (one lead and lag see a move at most one day
late).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import event_study
from incident_impact.eventstudy.thin import dimson, scholes_williams

OUT = Path(__file__).with_name("models_results.md")
A1, B1 = 0.10, 0.88
SD = 0.02
OMEGA = SD**2 * (1 - A1 - B1)
PATH, BURN = 700, 200
WINDOWS = [(0, 0), (0, 1)]


def garch_path(rng: np.random.Generator) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Stock and market returns on PATH days and the stock's conditional variance."""
    n = PATH + BURN
    z = rng.standard_normal(n)
    h = np.empty(n)
    e = np.empty(n)
    h_prev, e_prev = SD**2, 0.0
    for t in range(n):
        h[t] = OMEGA + A1 * e_prev**2 + B1 * h_prev
        e[t] = np.sqrt(h[t]) * z[t]
        h_prev, e_prev = h[t], e[t]
    m = rng.normal(0.0003, 0.01, PATH)
    dates = pd.bdate_range("2010-01-04", periods=PATH)
    r = 0.0002 + m + e[BURN:]
    return pd.Series(r, index=dates), pd.Series(m, index=dates), h[BURN:]


def stationary_q90(paths: int = 400, seed: int = 99) -> float:
    """90th percentile of the conditional variance over the candidate origins of ``paths`` paths
    (fixed seed): the threshold of the ex-ante high-volatility state."""
    rng = np.random.default_rng(seed)
    return float(np.quantile(np.concatenate([garch_path(rng)[2][250 : PATH - 15] for _ in range(paths)]), 0.9))


def oracle_variance(h: np.ndarray, day0: int, horizons: np.ndarray) -> np.ndarray:
    """True variance forecasts E_T h_{T+s} for ``horizons`` s from the last estimation day T = day0 - 11."""
    p = A1 + B1
    return SD**2 + p ** (horizons - 1) * (h[day0 - 10] - SD**2)


def draw_event(rng: np.random.Generator, state: str, threshold: float) -> tuple[pd.Series, pd.Series, np.ndarray, int]:
    """A path and its day 0 in ``state`` (see the module docstring)."""
    while True:
        r, m, h = garch_path(rng)
        if state != "high volatility (ex ante)":
            return r, m, h, draw_day0(rng, h, state)
        day0 = int(rng.choice(np.arange(260, PATH - 5)))
        if h[day0 - 10] >= threshold:
            return r, m, h, day0


def draw_day0(rng: np.random.Generator, h: np.ndarray, state: str) -> int:
    candidates = np.arange(260, PATH - 5)
    if state == "random":
        return int(rng.choice(candidates))
    h_origin = h[candidates - 10]  # day -10: the first session after the estimation window
    high = candidates[h_origin >= np.quantile(h_origin, 0.9)]
    return int(rng.choice(high))


def part_a(n_events: int, models: list[str], state: str, seed: int, threshold: float) -> dict:
    from scipy import stats

    rng = np.random.default_rng(seed)
    names = [*models, "oracle"]
    t = {m: {w: [] for w in WINDOWS} for m in names}
    failures = {m: 0 for m in names}
    reasons: dict[str, dict[str, int]] = {m: {} for m in names}
    fits: dict[str, list[tuple[float, float, float]]] = {m: [] for m in models if m != "market"}
    for _ in range(n_events):
        r, m, h, i0 = draw_event(rng, state, threshold)
        day0 = r.index[i0]
        e = r.to_numpy() - 0.0002 - m.to_numpy()  # the true errors
        for w in WINDOWS:
            days = np.arange(i0 + w[0], i0 + w[1] + 1)
            tt = e[days].sum() / np.sqrt(oracle_variance(h, i0, days - i0 + 11).sum())
            t["oracle"][w].append((float(tt), float(2 * stats.norm.sf(abs(tt)))))
        for name in models:
            try:
                res = event_study(r, m, day0, model=name, windows=WINDOWS)
            except IncidentImpactError as exc:
                failures[name] += 1
                key = str(exc).split("(")[0].split(":")[0][:60]
                reasons[name][key] = reasons[name].get(key, 0) + 1
                for w in WINDOWS:
                    t[name][w].append(np.nan)
                continue
            table = res.car_table
            for w, (_, row) in zip(WINDOWS, table.iterrows(), strict=True):
                t[name][w].append((row.t_stat, row.p_value))
            if name in fits:  # persistence, day-0 forecast / oracle, realised day-0 variance / oracle
                ex = {k: v for k, v, _ in res.fitted.extra}
                persistence = ex["beta1"] + (ex["alpha1"] if name == "garch" else 0.0)
                oracle = float(oracle_variance(h, i0, np.array([11]))[0])
                assert res.fitted.variance_forecast is not None
                fits[name].append((persistence, float(res.fitted.variance_forecast[10]) / oracle, h[i0] / oracle))
    return {"t": t, "failures": failures, "reasons": reasons, "n": n_events, "fits": fits}


def fit_rows(out: dict, state: str) -> list[dict]:
    rows = []
    for name, values in out["fits"].items():
        v = np.array(values)
        rows.append(
            {
                "day 0": state,
                "model": name,
                "fits": len(v),
                "persistence_mean": float(v[:, 0].mean()),
                "persistence_median": float(np.median(v[:, 0])),
                "share_>=0.99": float((v[:, 0] >= 0.99).mean()),
                "forecast/oracle_mean": float(v[:, 1].mean()),
                "forecast/oracle_median": float(np.median(v[:, 1])),
                "realised/oracle_mean": float(v[:, 2].mean()),
            }
        )
    return rows


def size_rows(out: dict, state: str, pool: int) -> list[dict]:
    from scipy import stats

    rows = []
    for name, by_window in out["t"].items():
        for w, values in by_window.items():
            ok = [v for v in values if isinstance(v, tuple)]
            p = np.array([v[1] for v in ok])
            tt = np.array([v[0] for v in ok])
            rate = float((p < 0.05).mean())
            se = float(np.sqrt(rate * (1 - rate) / len(p)))
            # pooled: consecutive groups of `pool` events, Z = sum SCAR / sqrt(N)
            groups = len(tt) // pool
            z = tt[: groups * pool].reshape(groups, pool).sum(axis=1) / np.sqrt(pool)
            pooled = float((2 * stats.norm.sf(np.abs(z)) < 0.05).mean()) if groups else np.nan
            pooled_se = float(np.sqrt(pooled * (1 - pooled) / groups)) if groups else np.nan
            rows.append(
                {
                    "day 0": state,
                    "model": name,
                    "window": f"[{w[0]},{w[1]:+d}]".replace("+0]", "0]"),
                    "events": len(p),
                    "failed": out["failures"][name],
                    "size": rate,
                    "mc_se": se,
                    "sd_t": float(tt.std(ddof=1)),
                    "pooled_N": pool,
                    "pooled_reps": groups,
                    "pooled_size": pooled,
                    "pooled_mc_se": pooled_se,
                }
            )
    return rows


def reading_a(size: pd.DataFrame, fitted: pd.DataFrame) -> str:
    """The reading of part A, its numbers taken from the tables."""

    def cell(state: str, model: str, window: str, col: str = "size") -> float:
        row = size[(size["day 0"] == state) & (size["model"] == model) & (size["window"] == window)]
        return float(row[col].iloc[0])

    def fit(state: str, model: str, col: str) -> float:
        return float(fitted.loc[(fitted["day 0"] == state) & (fitted["model"] == model), col].iloc[0])

    def pct(state: str, model: str) -> str:
        return " / ".join(f"{cell(state, model, w):.1%}" for w in ("[0,0]", "[0,+1]"))

    def sd(state: str, model: str) -> str:
        return " / ".join(f"{cell(state, model, w, 'sd_t'):.2f}" for w in ("[0,0]", "[0,+1]"))

    def band(state: str, model: str) -> str:
        inside = all(0.04 <= cell(state, model, w) <= 0.06 for w in ("[0,0]", "[0,+1]"))
        return "inside" if inside else "outside"

    hv, ea, rd = "high volatility", "high volatility (ex ante)", "random"
    eg_fail = {st: size[(size["day 0"] == st) & (size["model"] == "egarch")] for st in (hv, ea)}
    eg_rate = " and ".join(
        f"{int(f['failed'].iloc[0]) / (int(f['failed'].iloc[0]) + int(f['events'].iloc[0])):.0%}"
        for f in eg_fail.values()
    )
    windows = ("[0,0]", "[0,+1]")
    closer = all(abs(cell(hv, "garch", w) - 0.05) <= abs(cell(hv, "oracle", w) - 0.05) for w in windows)
    hv_real, ea_real = fit(hv, "garch", "realised/oracle_mean"), fit(ea, "garch", "realised/oracle_mean")
    hv_fc, hv_fc_med = fit(hv, "garch", "forecast/oracle_mean"), fit(hv, "garch", "forecast/oracle_median")
    ea_fc, ea_fc_med = fit(ea, "garch", "forecast/oracle_mean") - 1, fit(ea, "garch", "forecast/oracle_median") - 1
    hv_pers, ea_pers = fit(hv, "garch", "persistence_median"), fit(ea, "garch", "persistence_median")
    ea_near1, ea_se = fit(ea, "garch", "share_>=0.99"), cell(ea, "garch", "[0,0]", "mc_se")
    over = any(cell(ea, "garch", w) > 0.06 for w in windows)
    conservative = all(cell(ea, "garch", w, "sd_t") < 1 for w in windows)
    effect = "the test is mildly conservative" if conservative else "yet sd(t) is not below 1"
    effect += "" if over else ", not over-rejecting"
    true_p = A1 + B1
    return f"""Reading ([0,0] / [0,+1] windows). The OLS market model's constant sigma (the estimation
window's average) understates the variance after a high-volatility origin: it rejects
{pct(hv, "market")} of true nulls in the path-decile state and {pct(ea, "market")} in the ex-ante state
(sd(t) {sd(hv, "market")} and {sd(ea, "market")}).

*Path-decile state.* The GARCH model rejects {pct(hv, "garch")} (sd(t) {sd(hv, "garch")}), below 4-6 %, but
so does the oracle, which knows the true parameters and the true h_(T+1): {pct(hv, "oracle")} (sd(t)
{sd(hv, "oracle")}){"; the fitted model is no further from 5 % than the oracle" if closer else ""}. The true
day-0 variance averages {hv_real:.2f} of its forecast from T: the path-wide decile picks days after which
volatility falls faster than the process predicts (a day stays in the top decile only if the path's
later variance does not exceed it), which no forecast made at the end of the estimation window can
know. Under this rule the 4-6 % band is not reachable by a correct model; the model's own errors
are small here (forecast/oracle mean {hv_fc:.2f}, median {hv_fc_med:.2f}; persistence median
{hv_pers:.3f} against the true {true_p:.2f}).

*Ex-ante state* (the same high-volatility condition, without hindsight; realised/oracle
{ea_real:.2f}): the oracle rejects {pct(ea, "oracle")} (sd(t) {sd(ea, "oracle")}) and the GARCH model
{pct(ea, "garch")} (sd(t) {sd(ea, "garch")}), {band(ea, "garch")} the 4-6 % band (MC s.e. {ea_se:.1%}).
The GARCH forecast is {ea_fc:.0%} too high on average (median {ea_fc_med:.0%}): estimation windows that
end in a volatility burst give ML persistence estimates near 1 (median {ea_pers:.3f}, {ea_near1:.0%} of
fits at 0.99 or more, true {true_p:.2f}), so the 11-12-step forecasts revert too slowly: {effect}.
EGARCH (misspecified: the data are GARCH) rejects {pct(hv, "egarch")} (path-decile) and
{pct(ea, "egarch")} (ex ante), but {eg_rate} of its fits fail (non-convergence or a degenerate fit),
which the library reports as failures, not numbers.

*Random days*: market {pct(rd, "market")}, GARCH {pct(rd, "garch")}, oracle {pct(rd, "oracle")}: the
excess over 5 %, where there is one, is shared by the oracle, i.e. it comes from the conditional
fat tails of GARCH returns (a normal scale mixture), not from either model. Pooled rows (N = 10)
have few replications and wide s.e."""


def thin_path(rng: np.random.Generator, n: int, pi: float) -> tuple[np.ndarray, np.ndarray]:
    m = rng.normal(0.0004, 0.01, n + 50)
    true = m + rng.normal(0, 0.015, n + 50)
    observed = np.empty(n + 50)
    pending = 0.0
    trade = rng.random(n + 50) >= pi
    for t in range(n + 50):
        pending += true[t]
        if trade[t]:
            observed[t], pending = pending, 0.0
        else:
            observed[t] = 0.0
    return observed[50:], m[50:]  # drop the start, where no stale move is pending yet


def part_b(reps: int, pis: list[float], seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for pi in pis:
        est = {"OLS": [], "Scholes-Williams": [], "Dimson (k=1)": []}
        for _ in range(reps):
            y, x = thin_path(rng, 250, pi)
            xc = x - x.mean()
            est["OLS"].append(float(xc @ (y - y.mean()) / (xc @ xc)))
            est["Scholes-Williams"].append(scholes_williams(y, x)[1])
            est["Dimson (k=1)"].append(dimson(y, x)[1])
        for name, values in est.items():
            v = np.array(values)
            theory = 1 - pi if name == "OLS" else 1 - pi**2
            rows.append(
                {
                    "pi": pi,
                    "estimator": name,
                    "mean_beta": float(v.mean()),
                    "mc_se": float(v.std(ddof=1) / np.sqrt(len(v))),
                    "sd_beta": float(v.std(ddof=1)),
                    "bias": float(v.mean() - 1),
                    "theory": theory,
                }
            )
    return rows


def fmt(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(f"{v:.4f}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    n_high, n_random, n_egarch, reps_b = (60, 30, 30, 50) if args.quick else (1200, 400, 400, 1000)
    start = time.time()
    q90 = stationary_q90()
    high = part_a(n_high, ["market", "garch"], "high volatility", 1, q90)
    random_day = part_a(n_random, ["market", "garch"], "random", 2, q90)
    eg = part_a(n_egarch, ["egarch"], "high volatility", 3, q90)
    ex_ante = part_a(n_high, ["market", "garch"], "high volatility (ex ante)", 5, q90)
    eg_ex_ante = part_a(n_egarch, ["egarch"], "high volatility (ex ante)", 6, q90)
    runs = [
        (high, "high volatility"),
        (random_day, "random"),
        (eg, "high volatility"),
        (ex_ante, "high volatility (ex ante)"),
        (eg_ex_ante, "high volatility (ex ante)"),
    ]
    size = pd.DataFrame([row for out, state in runs for row in size_rows(out, state, 10)])
    size = size[(size["model"] != "oracle") | ~size.duplicated(["day 0", "model", "window"])]  # one oracle per state
    fitted = pd.DataFrame([row for out, state in runs for row in fit_rows(out, state)])
    thin = pd.DataFrame(part_b(reps_b, [0.0, 0.2, 0.4, 0.6], 4))
    elapsed = time.time() - start
    reasons: dict[str, dict[str, int]] = {}
    for out, _ in runs:
        for m, r in out["reasons"].items():
            for k, n in r.items():
                reasons.setdefault(m, {})[k] = reasons.setdefault(m, {}).get(k, 0) + n
    text = f"""# Normal-return models: GARCH / EGARCH and thin-trading betas (Monte Carlo)

Generated by `python validation/models_sim.py` ({elapsed / 60:.0f} min); models in
`incident_impact/eventstudy/garch.py` and `thin.py`, whose docstrings give the formulas.

## A. Size of the t-test under GARCH(1,1) errors

Stock errors GARCH(1,1): unconditional s.d. 2 %/day, alpha1 = {A1}, beta1 = {B1}; market i.i.d.
N(0.03 %, 1 %), beta = 1, no event effect. Every event goes through `event_study` with the default
estimation window [-250,-11]. Day 0 states: *random*: any day. *High volatility*: day 0 drawn among
the days whose conditional variance on day -10 (known when the estimation window closes) is in
**the path's** top decile; the decile is computed on the whole path, later days included, so the
rule looks ahead. *High volatility (ex ante)*: a random day kept when its day -10 conditional
variance exceeds the 90th percentile of the stationary distribution ({q90:.3g}, i.e. s.d.
{np.sqrt(q90):.2%}/day; fixed), else a new path; nothing after the estimation window enters the draw.
`oracle`: the true errors divided by the square root of the true variance forecast from the end of
the estimation window, `E_T h_(T+s) = s^2 + (alpha1 + beta1)^(s-1) (h_(T+1) - s^2)`, s = 11 for day 0
(what a model fitted on the estimation window can at best do). `size` = share of events whose CAR
t-test rejects at 5 % (two-sided), `mc_se` = its Monte Carlo standard error sqrt(p(1-p)/n);
`sd_t` = the s.d. of the t-statistics (1 when the SE is right). `pooled_size`: Z = sum of N = 10
events' standardised CARs / sqrt(10) against N(0,1), over `pooled_reps` groups. Failed fits are
left out of the rates and counted in `failed`.

{fmt(size)}

Failure reasons: {reasons if reasons else "none"}.

The fits (events that did not fail): `persistence` = alpha1 + beta1 (GARCH; true {A1 + B1:.2f}) or
beta1 (EGARCH, the log-variance persistence); `forecast/oracle` = the model's day-0 variance
forecast over the oracle's `E_T h_(T+11)`; `realised/oracle` = the true day-0 conditional variance
`h_0` over `E_T h_(T+11)`, whose mean is 1 when the selection of day 0 uses only what is known at
the end of the estimation window.

{fmt(fitted)}

{reading_a(size, fitted)}

## B. Thin trading: bias of the OLS beta and its correction

The observed price keeps the last traded value with probability pi per day (the true move shows on
the next trade); true beta 1, market i.i.d.; 250-day estimation windows, {reps_b} replications per pi.
`theory`: 1 - pi for OLS, 1 - pi^2 for Scholes-Williams and Dimson with one lead and lag (they
capture moves that show at most one day late; a price stale for 2+ days needs more lags, e.g.
Dimson with k = 2 or 3 via `NormalReturnModel(..., estimator="dimson", lags=k)`).

{fmt(thin)}
"""
    if args.quick:
        print(text)
    else:
        OUT.write_text(text)
        print(text)


if __name__ == "__main__":
    main()
