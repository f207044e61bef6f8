"""Monte-Carlo checks of the test battery against known truth (Brown & Warner 1985 design).

Each replication draws ``N`` events from a market model ``R_it = beta_i R_mt + e_it`` with
``beta_i ~ U(0.5, 1.5)``, ``sd(e_it) ~ U(1 %, 3 %)``, ``R_mt ~ N(0.05 %, 1 %)``, fits the market
model by OLS on ``L1`` estimation days (relative days ``[-L1 - 10, -11]``) and applies every test
of :mod:`.statistics` to the event window. Scenarios (:data:`SCENARIOS`):

* ``A``: H0, independent events on different dates;
* ``B``: H0 with the event-window idiosyncratic variance doubled (event-induced variance);
* ``C``: H0, all events on one date with equicorrelated idiosyncratic shocks (``rho = 0.05``)
  and a common market path (clustering; Kolari & Pynnönen 2010);
* ``D``/``E``: an abnormal return of +1 % / +0.5 % on day 0.

Returns and the OLS fits are vectorised over events (closed-form simple regression, the
textbook formulas of CLM 1997 ch. 4); the per-event inputs equal those of
:func:`~incident_impact.eventstudy.run_study` on the same data (checked in the test suite),
and every statistic comes from the one implementation in :mod:`.statistics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from . import statistics as st

#: Multi-event tests the simulation scores (``sq`` is single-event: see :func:`single_event_size`).
MULTI_TESTS = tuple(t for t in st.TEST_NAMES if t != "sq")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    event_var_factor: float = 1.0
    clustered: bool = False
    rho: float = 0.0
    abnormal: float = 0.0


SCENARIOS = {
    "A": Scenario("A", "H0, independent events"),
    "B": Scenario("B", "H0, event-day variance x2", event_var_factor=2.0),
    "C": Scenario("C", "H0, one event date, rho = 0.05", clustered=True, rho=0.05),
    "D": Scenario("D", "H1, day-0 AR = +1 %", abnormal=0.01),
    "E": Scenario("E", "H1, day-0 AR = +0.5 %", abnormal=0.005),
}


def simulate_panel(
    rng: np.random.Generator, scenario: Scenario, n_events: int = 50, n_est: int = 239, window: tuple[int, int] = (0, 0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One replication: ``(stock, market, rel_days)``, arrays (N x T) over relative days
    ``-n_est - 10 .. window end``; the event window gets the scenario's shock."""
    rel = np.arange(-n_est - 10, max(window[1], 0) + 1)
    T = len(rel)
    beta = rng.uniform(0.5, 1.5, (n_events, 1))
    sigma = rng.uniform(0.01, 0.03, (n_events, 1))
    if scenario.clustered:
        market = np.broadcast_to(rng.normal(0.0005, 0.01, (1, T)), (n_events, T))
        common = rng.normal(0, 1, (1, T))
        z = np.sqrt(scenario.rho) * common + np.sqrt(1 - scenario.rho) * rng.normal(0, 1, (n_events, T))
    else:
        market = rng.normal(0.0005, 0.01, (n_events, T))
        z = rng.normal(0, 1, (n_events, T))
    in_window = (rel >= window[0]) & (rel <= window[1])
    scale = np.where(in_window, np.sqrt(scenario.event_var_factor), 1.0)
    stock = beta * market + sigma * z * scale
    stock[:, rel == 0] += scenario.abnormal
    return stock, np.array(market), rel


@dataclass(frozen=True)
class Inputs:
    """Per-event inputs of the statistics for one replication (arrays over events)."""

    car: np.ndarray
    car_var: np.ndarray
    naive_var: np.ndarray
    df: np.ndarray
    share_positive: np.ndarray
    residuals: np.ndarray  # (N x L1)
    rank_panel: np.ndarray  # (N x (L1 + L)): estimation then window ARs
    window_mask: np.ndarray
    est_sar: np.ndarray  # (N x L1): AR / sigma on the estimation days
    window_sar: np.ndarray  # (N x L): AR / prediction-error sd on the window days


def market_model_inputs(
    stock: np.ndarray, market: np.ndarray, rel: np.ndarray, n_est: int, window: tuple[int, int]
) -> Inputs:
    """OLS market model per event (rows), vectorised: estimation days ``[-n_est - 10, -11]``.

    ``CAR`` variance ``s^2 (L + L^2/L1 + (sum_w (R_m - Rbar_m))^2 / S_mm)`` (CLM 1997 eq. 4.4.14);
    ``naive_var`` is the common bug that sums daily variances, ``s^2 (L + L/L1 + sum_w (R_m - Rbar_m)^2 / S_mm)``.
    """
    est = (rel >= -n_est - 10) & (rel <= -11)
    win = (rel >= window[0]) & (rel <= window[1])
    x, y = market[:, est], stock[:, est]
    xm, ym = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    smm = ((x - xm) ** 2).sum(axis=1)
    beta = ((x - xm) * (y - ym)).sum(axis=1) / smm
    alpha = ym[:, 0] - beta * xm[:, 0]
    resid = y - alpha[:, None] - beta[:, None] * x
    L1, L = est.sum(), win.sum()
    s2 = (resid**2).sum(axis=1) / (L1 - 2)
    ar_w = stock[:, win] - alpha[:, None] - beta[:, None] * market[:, win]
    dev = market[:, win] - xm
    car_var = s2 * (L + L**2 / L1 + dev.sum(axis=1) ** 2 / smm)
    naive = s2 * (L + L / L1 + (dev**2).sum(axis=1) / smm)
    mask = np.r_[np.zeros(L1, bool), np.ones(L, bool)]
    ar_se = np.sqrt(s2[:, None] * (1 + 1 / L1 + dev**2 / smm[:, None]))
    return Inputs(
        ar_w.sum(axis=1),
        car_var,
        naive,
        np.full(len(s2), L1 - 2.0),
        (resid > 0).mean(axis=1),
        resid,
        np.hstack([resid, ar_w]),
        mask,
        resid / np.sqrt(s2)[:, None],
        ar_w / ar_se,
    )


def battery(inputs: Inputs, clustered: bool) -> dict[str, st.TestResult]:
    """The multi-event tests on one replication's inputs (KP uses the residual correlation only
    when the events share calendar dates, as :func:`run_study` would)."""
    car, var = inputs.car, inputs.car_var
    scar = car / np.sqrt(var)
    rbar = st.mean_pairwise_correlation(inputs.residuals.T)[0] if clustered else float("nan")
    return {
        r.name: r
        for r in (
            st.cs_t(car),
            st.time_series_t(car, var),
            st.patell(scar, inputs.df),
            st.bmp(scar),
            st.kp_bmp(scar, rbar),
            st.corrado(inputs.rank_panel, inputs.window_mask),
            st.corrado_zivney(inputs.est_sar, inputs.window_sar),
            st.grank(inputs.est_sar, scar),
            st.generalized_sign(car, inputs.share_positive),
            st.wilcoxon(car),
        )
    }


def _scenario(scenario: str | Scenario) -> Scenario:
    """A scenario given by name (a clear error for an unknown one) or as a :class:`Scenario`."""
    if not isinstance(scenario, str):
        return scenario
    if scenario not in SCENARIOS:
        raise IncidentImpactError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[scenario]


def rejection_rates(
    scenario: str | Scenario,
    reps: int,
    seed: int,
    n_events: int = 50,
    n_est: int = 239,
    window: tuple[int, int] = (0, 0),
    level: float = 0.05,
) -> pd.Series:
    """Share of ``reps`` replications in which each test rejects at ``level`` (two-sided)."""
    sc = _scenario(scenario)
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(MULTI_TESTS, 0)
    for _ in range(reps):
        stock, market, rel = simulate_panel(rng, sc, n_events, n_est, window)
        for name, res in battery(market_model_inputs(stock, market, rel, n_est, window), sc.clustered).items():
            hits[name] += res.p_value < level
    return pd.Series({k: v / reps for k, v in hits.items()}, name=sc.name)


def single_event_size(
    reps: int,
    seed: int,
    n_est: int = 239,
    window: tuple[int, int] = (0, 0),
    level: float = 0.05,
    t_df: float | None = None,
) -> pd.Series:
    """Rejection rates of one-event tests under H0 (``time_series_t`` = the single-event t,
    ``corrado``, ``sq``); ``t_df`` draws the shocks from a scaled Student t (fat tails)."""
    rng = np.random.default_rng(seed)
    hits = {"t_test": 0, "corrado": 0, "sq": 0}
    for _ in range(reps):
        stock, market, rel = simulate_panel(rng, SCENARIOS["A"], 1, n_est, window)
        if t_df:
            stock = market * 1.0 + 0.02 * rng.standard_t(t_df, stock.shape) / np.sqrt(t_df / (t_df - 2))
        inp = market_model_inputs(stock, market, rel, n_est, window)
        t = inp.car[0] / np.sqrt(inp.car_var[0])
        from scipy import stats

        hits["t_test"] += 2 * stats.t.sf(abs(t), inp.df[0]) < level
        hits["corrado"] += st.corrado(inp.rank_panel, inp.window_mask).p_value < level
        hits["sq"] += st.sq(inp.car[0], inp.residuals[0], window[1] - window[0] + 1).p_value < level
    return pd.Series({k: v / reps for k, v in hits.items()}, name="single event")


def standardized_car_variance(reps: int, seed: int, n_est: int = 30, window: tuple[int, int] = (-5, 5)) -> dict:
    """``Var(CAR / SE)`` under H0 with the full CLM variance and with the naive daily sum, and the
    t-distribution value ``df / (df - 2)`` the full one should match (``df = n_est - 2``)."""
    rng = np.random.default_rng(seed)
    full, naive = [], []
    chunk = 1000
    for start in range(0, reps, chunk):
        n = min(chunk, reps - start)
        stock, market, rel = simulate_panel(rng, SCENARIOS["A"], n, n_est, window)
        inp = market_model_inputs(stock, market, rel, n_est, window)
        full.append(inp.car / np.sqrt(inp.car_var))
        naive.append(inp.car / np.sqrt(inp.naive_var))
    df = n_est - 2
    return {
        "full": float(np.var(np.concatenate(full))),
        "naive": float(np.var(np.concatenate(naive))),
        "t_variance": df / (df - 2),
    }


def volatility_rejection_rates(
    scenario: str | Scenario,
    reps: int,
    seed: int,
    n_events: int = 50,
    n_est: int = 239,
    window: tuple[int, int] = (0, 0),
    level: float = 0.05,
) -> pd.Series:
    """Rejection rates of the abnormal-volatility tests (:mod:`.volatility`: ``av_t``, the
    cross-sectional t of ``VR_i - df/(df - 2)``, ``av_skew_t``, its skewness-adjusted version, and
    the pooled ``av_chi2``) and the per-event
    F test's rejection share (``f_event``) on ``scenario``'s data."""
    from scipy import special

    from .skewness import skewness_adjusted_t
    from .volatility import _two_sided  # the same two-sided rule as the library

    sc = _scenario(scenario)
    rng = np.random.default_rng(seed)
    hits = {"av_t": 0.0, "av_skew_t": 0.0, "av_chi2": 0.0, "f_event": 0.0}
    for _ in range(reps):
        stock, market, rel = simulate_panel(rng, sc, n_events, n_est, window)
        inp = market_model_inputs(stock, market, rel, n_est, window)
        L = inp.window_sar.shape[1]
        vr = (inp.window_sar**2).mean(axis=1)
        df = inp.df
        hits["av_t"] += float(st.cs_t(vr - df / (df - 2)).p_value < level)
        hits["av_skew_t"] += float(skewness_adjusted_t(vr - df / (df - 2)).p_value < level)
        stat, dof = L * vr.sum(), L * len(vr)
        hits["av_chi2"] += float(_two_sided(special.chdtr(dof, stat), special.chdtrc(dof, stat)) < level)
        hits["f_event"] += float((_two_sided(special.fdtr(L, df, vr), special.fdtrc(L, df, vr)) < level).mean())
    return pd.Series({k: v / reps for k, v in hits.items()}, name=sc.name)


def bootstrap_rejection_rates(
    scenario: str | Scenario,
    reps: int,
    seed: int,
    n_boot: int = 199,
    kind: str = "date",
    n_events: int = 50,
    n_est: int = 239,
    window: tuple[int, int] = (0, 0),
    level: float = 0.05,
    tests: tuple[str, ...] = ("cs_t", "patell", "bmp"),
) -> pd.Series:
    """Rejection rates of the bootstrap p-values (:mod:`.bootstrap`, ``n_boot`` resamples of
    ``kind``) of ``tests`` on ``scenario``'s data."""
    from types import SimpleNamespace

    from .bootstrap import bootstrap_pvalues

    sc = _scenario(scenario)
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(tests, 0)
    L = window[1] - window[0] + 1
    for _ in range(reps):
        stock, market, rel = simulate_panel(rng, sc, n_events, n_est, window)
        inp = market_model_inputs(stock, market, rel, n_est, window)
        res = battery(inp, sc.clustered)
        x = SimpleNamespace(
            car=inp.car,
            se=np.sqrt(inp.car_var),
            df=inp.df,
            share_positive=inp.share_positive,
            rbar=st.mean_pairwise_correlation(inp.residuals.T)[0] if sc.clustered else float("nan"),
        )
        boot = bootstrap_pvalues(
            {t: res[t] for t in tests}, x, inp.residuals, L, n_boot, seed=int(rng.integers(2**32)), kind=kind
        )
        for t in tests:
            hits[t] += int(boot["bootstrap_p_value"].to_numpy(dtype=float)[list(boot.index).index(t)] < level)
    return pd.Series({k: v / reps for k, v in hits.items()}, name=f"{sc.name} ({kind})")
