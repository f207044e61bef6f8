"""Test statistics of event studies: one function per test, each returning a :class:`TestResult`.

The functions take plain arrays (one entry per event) so that the multi-event study
(:mod:`.study`), the single-event result and the simulation checks all share one formula.
Notation: event ``i = 1..N``; ``CAR_i`` its cumulative abnormal return over the window
``[t1, t2]`` of ``L`` days; ``SE_i^2 = sigma_i^2 (L + g_i' (X_i'X_i)^-1 g_i)`` its
estimation-error-corrected variance (Campbell, Lo & MacKinlay 1997, eq. 4.4.14);
``SCAR_i = CAR_i / SE_i`` the standardized CAR, distributed ``t(df_i)`` under normal H0 with
``df_i = T_i - k`` (``T_i`` estimation days, ``k`` model parameters).

A test that cannot be computed (too few events, no variation, ...) does not raise: it returns a
record with ``statistic = p_value = NaN`` and a ``reason``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..distributions import norm_sf, t_sf
from .ranks import row_ranks, signed_rank_test

#: The tests reported by :meth:`incident_impact.eventstudy.StudyResult.tests`, in this order.
TEST_NAMES = (
    "cs_t",
    "time_series_t",
    "patell",
    "bmp",
    "kp_bmp",
    "corrado",
    "corrado_zivney",
    "grank",
    "generalized_sign",
    "wilcoxon",
    "sq",
)


@dataclass(frozen=True)
class TestResult:
    """One test's outcome.

    Attributes
    ----------
    name : the test's key (see :data:`TEST_NAMES`).
    statistic : the test statistic (NaN when the test cannot be computed).
    p_value : two-sided p-value under the null of no abnormal return.
    distribution : null distribution, e.g. ``"t"``, ``"normal"``, ``"empirical"``.
    df : degrees of freedom of a t distribution (else None).
    n_events : events that entered the statistic.
    reason : why the statistic is NaN (None when it is not).
    note : remarks, e.g. the Kolari-Pynnönen mean correlation.
    """

    __test__ = False  # not a pytest class

    name: str
    statistic: float
    p_value: float
    distribution: str
    df: float | None = None
    n_events: int = 0
    reason: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        if self.reason:
            return f"{self.name}: not computed ({self.reason})"
        dist = f"t({self.df:g})" if self.distribution == "t" and self.df is not None else self.distribution
        return f"{self.name} = {self.statistic:.4f}, p = {self.p_value:.4f} [{dist}, N = {self.n_events}]"


def _nan(name: str, distribution: str, n: int, reason: str, df: float | None = None) -> TestResult:
    return TestResult(name, float("nan"), float("nan"), distribution, df, n, reason)


def normal_result(name: str, z: float, n: int, note: str | None = None) -> TestResult:
    """The record of a statistic ``z`` that is N(0, 1) under the null (two-sided p-value)."""
    return TestResult(name, float(z), float(2 * norm_sf(abs(z))), "normal", None, n, None, note)


_normal = normal_result


def _student(name: str, t: float, df: float, n: int, note: str | None = None) -> TestResult:
    return TestResult(name, float(t), float(2 * t_sf(abs(t), df)), "t", float(df), n, None, note)


def _arr(values) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def _need_two(name: str, distribution: str, n: int) -> TestResult | None:
    if n < 2:
        return _nan(name, distribution, n, f"a cross-sectional test needs at least 2 events (N = {n})")
    return None


def _one_sample_t(name: str, values, what: str) -> TestResult:
    """``mean / (s / sqrt(N))`` against t(N - 1), NaN with a reason for N < 2 or no variation."""
    x = _arr(values)
    n = len(x)
    if (bad := _need_two(name, "t", n)) is not None:
        return bad
    s = x.std(ddof=1)
    if not s > 0:
        return _nan(name, "t", n, f"{what} do not vary across events", n - 1)
    return _student(name, x.mean() / (s / np.sqrt(n)), n - 1, n)


def cs_t(car) -> TestResult:
    """Cross-sectional t test of the mean CAR (Brown & Warner 1985, no dependence adjustment).

    ``t = CAAR / (s_CAR / sqrt(N))``, ``CAAR = mean CAR_i``, ``s_CAR`` the cross-sectional
    standard deviation (``ddof = 1``); ``t ~ t(N - 1)``. Robust to event-induced variance,
    not to cross-sectional correlation.
    """
    return _one_sample_t("cs_t", car, "the CARs")


def time_series_t(car, car_var) -> TestResult:
    """Time-series (portfolio) test J1 of Campbell, Lo & MacKinlay (1997, eq. 4.4.22).

    ``J1 = CAAR / sqrt(Var(CAAR))``, ``Var(CAAR) = (1/N^2) sum_i SE_i^2`` with each ``SE_i^2``
    the estimation-error-corrected CAR variance; ``J1 ~ N(0, 1)`` asymptotically. Assumes
    independent events and no event-induced variance.
    """
    car, var = _arr(car), _arr(car_var)
    n = len(car)
    if n < 1:
        return _nan("time_series_t", "normal", 0, "no events")
    return _normal("time_series_t", car.mean() / np.sqrt(var.sum() / n**2), n)


def patell(scar, df) -> TestResult:
    """Standardized-residual test of Patell (1976), CAR version.

    ``Z = sum_i SCAR_i / sqrt(sum_i df_i / (df_i - 2))``: each ``SCAR_i`` is ``t(df_i)`` with
    variance ``df_i / (df_i - 2)`` (for the market model ``df_i = T_i - 2``, Patell's
    ``(T_i - 2)/(T_i - 4)``). ``SCAR_i`` uses the full CAR variance (CLM 1997 J2, the exact
    multi-day analogue); ``Z ~ N(0, 1)``. Over-rejects under event-induced variance.
    """
    scar, df = _arr(scar), _arr(df)
    n = len(scar)
    if n < 1:
        return _nan("patell", "normal", 0, "no events")
    if np.any(df <= 2):
        return _nan("patell", "normal", n, "an event has 2 or fewer residual degrees of freedom")
    return _normal("patell", scar.sum() / np.sqrt((df / (df - 2)).sum()), n)


def bmp(scar) -> TestResult:
    """Standardized cross-sectional test of Boehmer, Musumeci & Poulsen (1991).

    ``t = mean(SCAR) / (s_SCAR / sqrt(N))`` with ``s_SCAR`` the cross-sectional standard
    deviation of the standardized CARs; ``t ~ t(N - 1)``. Keeps its size under event-induced
    variance.
    """
    return _one_sample_t("bmp", scar, "the standardized CARs")


def mean_pairwise_correlation(residuals, min_overlap: int = 30, pair_weights=None) -> tuple[float, int]:
    """Mean of the pairwise correlations of estimation-window residuals, and the number of pairs used.

    ``residuals`` is a (dates x events) array or frame with NaN where an event has no residual; a
    pair's correlation is computed over the dates both share when there are at least
    ``min_overlap`` of them. The diagonal (correlation 1) is excluded.

    Without ``pair_weights`` the mean runs over the pairs that overlap enough (``(nan, 0)`` when
    none does) — Kolari & Pynnönen's clustered setting. With ``pair_weights`` (N x N, the share
    of event-window dates two events have in common) the mean runs over all ``N(N-1)/2`` pairs
    of ``w_ij r_ij``: events whose windows do not meet in calendar time contribute 0, since
    only common event days make two CARs covary.
    """
    frame = pd.DataFrame(np.asarray(residuals, dtype=float))
    n = frame.shape[1]
    if n < 2:
        return float("nan"), 0
    if not frame.isna().to_numpy().any():
        corr = np.corrcoef(frame.to_numpy(), rowvar=False)
    else:
        corr = frame.corr(min_periods=min_overlap).to_numpy()
    iu = np.triu_indices(n, 1)
    upper = corr[iu]
    if pair_weights is not None:
        w = np.asarray(pair_weights, dtype=float)[iu]
        used = np.isfinite(upper) & (w > 0)
        return float(np.where(used, upper * w, 0.0).sum() / len(upper)), int(used.sum())
    upper = upper[np.isfinite(upper)]
    return (float(upper.mean()), int(len(upper))) if len(upper) else (float("nan"), 0)


def kp_bmp(scar, rbar: float) -> TestResult:
    """BMP adjusted for cross-correlation (Kolari & Pynnönen 2010).

    ``t_KP = t_BMP sqrt((1 - rbar) / (1 + (N - 1) rbar))``, ``rbar`` the mean pairwise
    correlation of the events' estimation-window residuals over their common dates
    (:func:`mean_pairwise_correlation`; :func:`~incident_impact.eventstudy.run_study` weights each
    pair by the share of event-window dates the two events have in common); ``t_KP ~ t(N - 1)``. When no two
    events share
    estimation dates ``rbar`` is taken as 0 (no adjustment), which the note says.
    """
    base = bmp(scar)
    n = base.n_events
    if base.reason:
        return TestResult("kp_bmp", base.statistic, base.p_value, "t", base.df, n, base.reason)
    note = None
    if not np.isfinite(rbar):
        rbar, note = 0.0, "no two events share enough estimation dates: rbar = 0, no adjustment"
    denom = 1 + (n - 1) * rbar
    if denom <= 0:
        return _nan("kp_bmp", "t", n, f"rbar = {rbar:.4f} makes 1 + (N - 1) rbar non-positive", n - 1)
    factor = np.sqrt((1 - rbar) / denom)
    return _student("kp_bmp", base.statistic * factor, n - 1, n, note or f"rbar = {rbar:.4f}, factor = {factor:.4f}")


def corrado(ar_panel, window_mask) -> TestResult:
    """Rank test of Corrado (1989) with the Corrado & Zivney (1992) / Cowan (1992) multi-day form.

    ``ar_panel`` is (events x days) over the estimation and event-window days aligned by relative
    day, NaN where missing; ``window_mask`` marks the CAR window's days. With ``K_it`` the rank of
    ``AR_it`` among event ``i``'s ``T_i`` non-missing days,
    ``U_it = K_it / (T_i + 1) - 1/2`` (Corrado & Zivney 1992, handles missing days),
    ``Ubar_t`` the mean over events present on day ``t``, ``S_U = sqrt(mean_t Ubar_t^2)`` over
    all days, and ``Z = sum_{t in window} Ubar_t / (sqrt(L) S_U) ~ N(0, 1)``.
    ``S_U`` is a time-series (portfolio) estimator, so the test absorbs cross-correlation; it is
    not immune to event-induced variance.
    """
    panel = np.atleast_2d(np.asarray(ar_panel, dtype=float))
    mask = np.asarray(window_mask, dtype=bool)
    n = panel.shape[0]
    if n < 1 or not mask.any():
        return _nan("corrado", "normal", n, "no events or an empty window")
    ranks = row_ranks(panel)
    t_i = np.isfinite(panel).sum(axis=1, keepdims=True)
    u = ranks / (t_i + 1) - 0.5
    present = np.isfinite(u).sum(axis=0)
    ubar = np.where(present > 0, np.nansum(u, axis=0) / np.maximum(present, 1), np.nan)
    if np.isnan(ubar[mask]).any():
        return _nan("corrado", "normal", n, "a window day has no abnormal return")
    s_u = np.sqrt(np.nanmean(ubar**2))
    if not s_u > 0:
        return _nan("corrado", "normal", n, "the ranks do not vary")
    return _normal("corrado", ubar[mask].sum() / (np.sqrt(mask.sum()) * s_u), n)


def _rank_means(panel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-day mean demeaned rank ``Ubar_t`` and count ``n_t`` of a (events x days) panel.

    ``K_it`` is the rank of day ``t`` among event ``i``'s ``T_i`` non-missing days (average
    ranks for ties), ``U_it = K_it / (T_i + 1) - 1/2``; ``Ubar_t`` the mean over the ``n_t``
    events present on day ``t`` (NaN where none is)."""
    ranks = row_ranks(panel)
    t_i = np.isfinite(panel).sum(axis=1, keepdims=True)
    u = ranks / (t_i + 1) - 0.5
    present = np.isfinite(u).sum(axis=0)
    ubar = np.where(present > 0, np.nansum(u, axis=0) / np.maximum(present, 1), np.nan)
    return ubar, present


def rank_scale(ubar, present, n: int) -> tuple[float, int]:
    """``S_U = sqrt((1/T) sum_t (n_t / N) Ubar_t^2)`` over the ``T`` days with at least one event
    (Kolari & Pynnönen 2011, eq. 9; Corrado & Zivney 1992 with missing returns), and ``T``."""
    ubar, present = np.asarray(ubar, dtype=float), np.asarray(present, dtype=float)
    used = present > 0
    T = int(used.sum())
    if T == 0:
        return float("nan"), 0
    return float(np.sqrt((present[used] / n * ubar[used] ** 2).sum() / T)), T


def corrado_zivney_from_means(ubar, present, n: int, length: int) -> TestResult:
    """The Corrado-Zivney statistic from the per-day rank means (estimation days, then the
    ``length`` window days last): see :func:`corrado_zivney`."""
    ubar = np.asarray(ubar, dtype=float)
    s_u, _ = rank_scale(ubar, present, n)
    if not s_u > 0:
        return _nan("corrado_zivney", "normal", n, "the ranks do not vary")
    return _normal("corrado_zivney", ubar[-length:].sum() / (np.sqrt(length) * s_u), n)


def corrado_zivney(est_sar, window_sar) -> TestResult:
    """Standardized rank test of Corrado & Zivney (1992) with their event-induced variance adjustment.

    ``est_sar`` is (events x estimation days), aligned by relative day, NaN where missing: the
    standardized estimation abnormal returns ``SAR_it = AR_it / sigma_i`` (``sigma_i`` the model's
    residual standard deviation); ``window_sar`` is (events x L) over the window's days:
    ``SAR_it = AR_it / S(AR_it)``, ``S(AR_it) = sigma_i sqrt(1 + x_t'(X'X)^-1 x_t)`` the
    prediction-error standard deviation. On each window day the SARs are divided by their
    cross-sectional standard deviation (``ddof = 1``), ``SAR'_it = SAR_it / s_t`` — Corrado &
    Zivney's adjustment: event-day SARs that the news made more volatile are brought back to unit
    variance, so they rank like estimation days. With ``K_it`` the rank of ``SAR'_it`` (window)
    or ``SAR_it`` (estimation) among event ``i``'s ``T_i`` days, ``U_it = K_it / (T_i + 1) - 1/2``,
    ``Ubar_t`` the mean over the ``n_t`` events present on day ``t`` and
    ``S_U = sqrt((1/T) sum_t (n_t/N) Ubar_t^2)`` over the ``T = L1 + L`` days,

        ``Z_CZ = sum_{t in window} Ubar_t / (sqrt(L) S_U) ~ N(0, 1)``

    (the multi-day form of Cowan 1992). Needs N >= 2 (a
    cross-sectional standard deviation). Unlike :func:`corrado` it keeps its size when the news
    doubles the event-day variance (``validation/results.md``).
    """
    est = np.atleast_2d(np.asarray(est_sar, dtype=float))
    win = np.atleast_2d(np.asarray(window_sar, dtype=float))
    n = win.shape[0]
    if (bad := _need_two("corrado_zivney", "normal", n)) is not None:
        return bad
    if not win.shape[1] or np.isnan(win).any():
        return _nan("corrado_zivney", "normal", n, "a window day has no abnormal return")
    s_t = win.std(axis=0, ddof=1)
    if not (s_t > 0).all():
        return _nan(
            "corrado_zivney", "normal", n, "the window's standardized abnormal returns do not vary across events"
        )
    ubar, present = _rank_means(np.concatenate([est, win / s_t], axis=1))
    return corrado_zivney_from_means(ubar, present, n, win.shape[1])


def grank_from_means(ubar, present, n: int) -> TestResult:
    """The GRANK statistic from the per-day rank means (estimation days, then the collapsed event
    day last): see :func:`grank`."""
    ubar = np.asarray(ubar, dtype=float)
    s_u, T = rank_scale(ubar, present, n)
    if not s_u > 0:
        return _nan("grank", "t", n, "the ranks do not vary")
    z = ubar[-1] / s_u
    if not T - 1 - z**2 > 0 or T < 3:
        return _nan("grank", "t", n, f"Z^2 = {z**2:.3f} is not below T - 1 = {T - 1}", T - 2)
    t = z * np.sqrt((T - 2) / (T - 1 - z**2))
    z_indep = ubar[-1] / np.sqrt((T - 1) / (12 * n * (T + 1)))
    return _student("grank", t, T - 2, n, f"T = {T}, Z = {z:.4f}; Z under independence = {z_indep:.4f}")


def grank(est_sar, scar) -> TestResult:
    """Generalized rank test GRANK of Kolari & Pynnönen (2011) for CARs.

    ``est_sar`` (events x estimation days, aligned by relative day, NaN where missing) holds the
    standardized estimation abnormal returns ``SAR_it = AR_it / sigma_i``; ``scar`` the window's
    standardized CARs ``SCAR_i = CAR_i / S(CAR_i)`` (the full CLM variance of :mod:`.statistics`).
    The event window is collapsed into one day ``t = 0``: re-standardized for event-induced
    volatility (the BMP step), ``SCAR*_i = SCAR_i / S_SCAR`` with ``S_SCAR`` the cross-sectional
    standard deviation of the ``SCAR_i`` (``ddof = 1``), the generalized standardized abnormal
    returns are ``GSAR_it = SCAR*_i`` for ``t = 0`` and ``SAR_it`` on the estimation days. Ranks
    over the combined ``T_i`` days (estimation + the collapsed day) give
    ``U_it = Rank(GSAR_it) / (T_i + 1) - 1/2``; ``Ubar_t`` is their mean over the ``n_t``
    events present on day ``t``, ``S_Ubar = sqrt((1/T) sum_t (n_t / N) Ubar_t^2)`` with
    ``T = L1 + 1`` (estimation days with data, plus the collapsed day),

        ``Z = Ubar_0 / S_Ubar``,   ``t_grank = Z sqrt((T - 2) / (T - 1 - Z^2)) ~ t(T - 2)``.

    ``S_Ubar`` is a time-series estimate over the same calendar days for all events, so the test
    absorbs cross-correlation of clustered events; the re-standardization makes it robust to
    event-induced volatility. The note also gives the Z variant under cross-sectional
    independence, ``Z_grank = Ubar_0 / sqrt((T - 1) / (12 N (T + 1)))`` (the exact variance of a
    mean of N independent uniform ranks on 1..T; EventStudyTools' GRANK-Z), which is N(0, 1).
    Needs N >= 2.
    """
    est = np.atleast_2d(np.asarray(est_sar, dtype=float))
    scar = _arr(scar)
    n = len(scar)
    if (bad := _need_two("grank", "t", n)) is not None:
        return bad
    s = scar.std(ddof=1)
    if not s > 0:
        return _nan("grank", "t", n, "the standardized CARs do not vary across events")
    ubar, present = _rank_means(np.concatenate([est, (scar / s)[:, None]], axis=1))
    return grank_from_means(ubar, present, n)


def generalized_sign(car, share_positive) -> TestResult:
    """Generalized sign test of Cowan (1992).

    ``p_hat = mean_i share_i``, ``share_i`` the fraction of event ``i``'s estimation-window
    abnormal returns above 0; ``w`` the number of events with ``CAR_i > 0``;
    ``Z = (w - N p_hat) / sqrt(N p_hat (1 - p_hat)) ~ N(0, 1)``. Robust to fat tails and outliers.
    """
    car, share = _arr(car), _arr(share_positive)
    n = len(car)
    if (bad := _need_two("generalized_sign", "normal", n)) is not None:
        return bad
    p = share.mean()
    if not 0 < p < 1:
        return _nan("generalized_sign", "normal", n, "the estimation-window share of positive ARs is 0 or 1")
    w = int((car > 0).sum())
    return _normal(
        "generalized_sign", (w - n * p) / np.sqrt(n * p * (1 - p)), n, f"{w} of {n} CARs positive, p_hat = {p:.4f}"
    )


def wilcoxon(car) -> TestResult:
    """Wilcoxon signed-rank test that the CARs are centred on 0.

    Statistic ``W+ = sum of the ranks of |CAR_i| over events with CAR_i > 0``; the p-value is
    the two-sided value of :func:`scipy.stats.wilcoxon` (exact for small N without ties, normal
    approximation otherwise; computed by :func:`.ranks.signed_rank_test` without importing
    scipy.stats). Zero CARs are dropped (Wilcoxon's convention).
    """
    car = _arr(car)
    n = len(car)
    if (bad := _need_two("wilcoxon", "signed-rank", n)) is not None:
        return bad
    nz = car[car != 0]
    if len(nz) < 2:
        return _nan("wilcoxon", "signed-rank", n, "fewer than 2 non-zero CARs")
    w_plus, p = signed_rank_test(nz)
    return TestResult("wilcoxon", w_plus, p, "signed-rank", None, n, None, f"W+ over {len(nz)} non-zero CARs")


#: Estimation CARs within this distance of the event's CAR count as equal to it in the SQ test: sums of the same
#: rounded returns added in another order differ by ~1e-16, which must not decide a tie (the engines agree).
SQ_TIE = 1e-12


def sq(car, estimation_ar, length: int, min_windows: int = 20) -> TestResult:
    """Sample-quantile (SQ) test of Gelbach, Helland & Klick (2013) for a single event.

    The event's ``CAR`` over ``L = length`` days is compared with the empirical distribution of
    the ``T - L + 1`` CARs of ``L`` consecutive days in the firm's own estimation window
    (``estimation_ar``, in date order). Statistic: ``q = share of estimation CARs <= CAR`` (the
    CAR's empirical quantile); two-sided p-value
    ``min(1, 2 min(share <= CAR, share >= CAR))``, an estimation CAR within :data:`SQ_TIE` of the
    CAR counting on both sides. Valid for non-normal returns; with one
    event this is the test used in securities litigation. Needs at least ``min_windows``
    estimation CARs.
    """
    ar = _arr(estimation_ar)
    car = float(np.asarray(car, dtype=float).ravel()[0])
    if len(ar) - length + 1 < min_windows:
        return _nan(
            "sq",
            "empirical",
            1,
            f"only {max(len(ar) - length + 1, 0)} estimation CARs of {length} days (need {min_windows})",
        )
    sums = np.convolve(ar, np.ones(length), mode="valid")
    le, ge = float((sums <= car + SQ_TIE).mean()), float((sums >= car - SQ_TIE).mean())
    return TestResult(
        "sq",
        le,
        min(1.0, 2 * min(le, ge)),
        "empirical",
        None,
        1,
        None,
        f"CAR against {len(sums)} estimation-window CARs of {length} days",
    )


def cs_t_named(name: str, values) -> TestResult:
    """:func:`cs_t` on any per-event quantity under another name (e.g. ``bhar_t`` for BHARs,
    Lyon, Barber & Tsai 1999 without their skewness correction)."""
    res = cs_t(values)
    return TestResult(name, res.statistic, res.p_value, res.distribution, res.df, res.n_events, res.reason, res.note)


def results_frame(results: list[TestResult]) -> pd.DataFrame:
    """Test records as a frame indexed by test name:
    ``statistic, p_value, df, n_events, distribution, note`` (the reason goes into ``note``)."""
    rows = [
        {
            "statistic": r.statistic,
            "p_value": r.p_value,
            "df": r.df if r.df is not None else np.nan,
            "n_events": r.n_events,
            "distribution": r.distribution,
            "note": r.reason or r.note or "",
        }
        for r in results
    ]
    return pd.DataFrame(rows, index=pd.Index([r.name for r in results], name="test"))
