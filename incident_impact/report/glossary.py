"""The words a report uses, explained for readers who are not statisticians, and the display
names of the cross-sectional tests (reports show these, never Python names)."""

from __future__ import annotations

#: Term -> one-paragraph explanation, shown at the end of every report.
GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "Abnormal return (AR)",
        "How much better or worse the stock did on one day than expected from its normal "
        "relation to the market (the normal-return model, fitted on the year before the incident).",
    ),
    (
        "CAR",
        "Cumulative abnormal return: the abnormal returns added up over a window of trading days. "
        "CAR[0,+1] covers day 0 (the first session in which the market could react to the news) and the next session.",
    ),
    (
        "p-value",
        "How often ordinary ups and downs alone would produce a CAR at least this far from zero. Below 5 % "
        "we call the move significant; above it, the move could be chance, which is not the same as no effect.",
    ),
    (
        "Equivalence test (TOST)",
        "Two one-sided tests of whether the effect is smaller than the materiality bound "
        "(e.g. 2 %) in both directions. Only when it succeeds do we say there was no material effect.",
    ),
    (
        "MDE",
        "Minimum detectable effect: the smallest CAR the test would find 80 % of the time. Effects smaller than "
        "the MDE can go unnoticed, so a non-significant result is only reassuring when the MDE is small.",
    ),
    (
        "BH (Benjamini-Hochberg)",
        "A correction for judging many incidents at once: it keeps the expected share of "
        "false alarms among the incidents called significant at 5 %.",
    ),
    (
        "Confounded",
        "Other news that can move the stock by itself (earnings, analyst actions, other company news) "
        "fell inside the same window, so the move cannot be put on the incident alone. "
        "Such incidents are counted apart.",
    ),
    (
        "Half-life",
        "After the lowest point of the cumulative abnormal return (the trough), the number of trading "
        "sessions until the stock had regained half of that loss.",
    ),
    (
        "Recovered by",
        "The first session from which the cumulative abnormal return stays above minus the MDE to the "
        "end of the horizon: from then on, what is left of the loss is too small to tell from ordinary noise.",
    ),
    (
        "BHAR",
        "Buy-and-hold abnormal return: what an investor who bought the stock on day 0 and held it earned over "
        "the window, minus what the benchmark earned. Unlike the CAR it compounds, as a real holding does.",
    ),
    (
        "Calendar-time portfolio",
        "A second long-run test: on each trading day, hold every stock that had an incident "
        "in the preceding window, and ask whether that portfolio earned more or less than the market predicts. It "
        "avoids counting one market swing several times when incidents overlap in time.",
    ),
    (
        "Prediction interval",
        "Where the true effect of a new incident like these would lie (95 % of the time). It is "
        "wider than the confidence interval of the average, because incidents differ from each other.",
    ),
    (
        "I²",
        "The share of the spread between the incidents' CARs that reflects real differences between incidents "
        "rather than the noise of each estimate: 0 % means the incidents look alike, 75 % means they differ a lot.",
    ),
)

#: Test code (as in ``StudyResult.tests`` and the JSON) -> the name a report shows.
TEST_LABELS: dict[str, str] = {
    "cs_t": "Cross-sectional t (Brown & Warner)",
    "time_series_t": "Time-series t (J1)",
    "patell": "Patell Z",
    "bmp": "BMP (Boehmer, Musumeci & Poulsen)",
    "kp_bmp": "BMP adjusted for clustering (Kolari & Pynnönen)",
    "corrado": "Rank test (Corrado)",
    "corrado_zivney": "Standardized rank test (Corrado & Zivney)",
    "grank": "Generalized rank test (Kolari & Pynnönen)",
    "generalized_sign": "Generalized sign test (Cowan)",
    "wilcoxon": "Wilcoxon signed-rank",
    "sq": "Sample-quantile test",
}
