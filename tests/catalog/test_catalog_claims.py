"""Every price figure the catalog's own texts state is recomputed from the shared daily prices.

The catalog (``datasets/incidents.csv``, ``datasets/timelines.csv``) quotes share moves in its
notes: "UAL closed 0.9% higher", "the shares lose another 5.4%", "close of $160.96". Each such
figure is listed below with what it measures, and ``test_claim_matches_the_prices`` recomputes
it from ``$INCIDENT_IMPACT_SHARED_DATA/prices`` (skipped when the variable is unset).

What is computed (see :func:`measure`):

* ``day``    close-to-close return of ``adj_close`` on a session, in percent;
* ``span``   ``adj_close`` return from the close of one session to the close of another;
* ``low``    the session's ``low`` against the previous ``close`` (the "fell as much as" figure),
  from the as-published columns, which exist only where an older download covered the date;
* ``close``  the as-published ``close`` times a split factor (the price quoted at the time);
* ``value``  market value lost, shares_outstanding (from ``incidents.csv``) x the fall of ``close``,
  in $bn;
* ``record_run`` how many sessions in a row up to a date closed at an all-time high ``close``;
* ``months_since_lower`` months since the last earlier close at or below the session's close;
* ``span_range`` lowest and highest ``span`` return over a range of end dates (for a claim
  whose end date is vague, e.g. "by Aug 2025").

Tolerance: a figure with one decimal must match to 0.15 percentage points (its rounding plus the
difference between the as-published close and the adjusted close); a whole-number figure, to
0.5 pp; a range "a-b%" must contain the computed value (0.05 pp slack); a price level, to half a
cent; a market value, to 5 % of the claim (the share count is from a filing months earlier).

``test_every_price_figure_is_accounted_for`` scans all texts for price-like figures (a number with
``%``, a currency amount, an amount in ``bn``) and fails when one is neither checked here nor
listed in ``UNCHECKABLE`` (a price figure the daily data cannot check, with the reason) or
``NOT_ABOUT_PRICES`` (sales, surveys, costs and the like), so a new figure cannot slip in
unchecked.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
PRICES = Path(SHARED or ".") / "prices"

INCIDENT_FIELDS = ("name", "summary", "claimed_impact", "listing_note")
UAL17 = "united-airlines-flight-3411-2017"
ADJ = "close-to-close adjusted"  # marker the rewritten notes carry when they cite the computation


@dataclass(frozen=True)
class Claim:
    """One price figure of the catalog: where it is, what it measures and what it says."""

    incident: str
    where: str  # an incidents.csv column, or "timeline:<date>:<kind>"
    quote: str  # exact text of that cell holding the figure
    measure: str  # see the module docstring
    ticker: str
    args: tuple
    claimed: float | tuple[float, float]  # percent, price, $bn, count or months; signed
    tol: float
    figure: str | None = None  # the figure as written, when not just abs(claimed) (e.g. "third")


def _c(incident, where, quote, measure, ticker, args, claimed, tol, figure=None):
    return Claim(incident, where, quote, measure, ticker, tuple(args), claimed, tol, figure)


TL = "timeline:"
CI = "claimed_impact"
D1, D0 = 0.15, 0.5  # one-decimal and whole-number tolerances (pp)

CLAIMS: list[Claim] = [
    # United 2017 (issue 11): the peers rose on day +1; the old note said they "also fall about 1%".
    _c(UAL17, TL + "2017-04-10:incident", "UAL closed 0.9% higher", "day", "UAL", ["2017-04-10"], 0.9, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "UAL fell 1.1%", "day", "UAL", ["2017-04-11"], -1.1, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "LUV +1.5%", "day", "LUV", ["2017-04-11"], 1.5, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "DAL +0.7%", "day", "DAL", ["2017-04-11"], 0.7, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "AAL +3.8%", "day", "AAL", ["2017-04-11"], 3.8, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "JBLU +1.4%", "day", "JBLU", ["2017-04-11"], 1.4, D1),
    _c(UAL17, TL + "2017-04-11:viral-peak", "ETF +1.0%", "day", "JETS", ["2017-04-11"], 1.0, D1, "1.0"),
    _c(UAL17, TL + "2017-04-11:viral-peak", "^GSPC -0.1%", "day", "^GSPC", ["2017-04-11"], -0.1, D1),
    _c(UAL17, CI, "intraday (-4.4%)", "low", "UAL", ["2017-04-11"], -4.4, D1),
    _c(UAL17, CI, "down only 1.1%", "day", "UAL", ["2017-04-11"], -1.1, D1),
    _c(UAL17, CI, "after gaining 0.9% on 10 Apr", "day", "UAL", ["2017-04-10"], 0.9, D1),
    # United Breaks Guitars 2009: the "10% in four days" is not in the closes (UAUA = UAL here).
    _c("united-breaks-guitars-2009", CI, "$3.34 on 6 Jul", "close", "UAL", ["2009-07-06", 1], 3.34, 0.005),
    _c("united-breaks-guitars-2009", CI, "$3.26 on 10 Jul (-2.4%)", "close", "UAL", ["2009-07-10", 1], 3.26, 0.005),
    _c("united-breaks-guitars-2009", CI, "$3.26 on 10 Jul (-2.4%)", "span", "UAL", ["2009-07-06", "2009-07-10"], -2.4, D1),
    _c("united-breaks-guitars-2009", CI, "$3.18 on 9 Jul (-4.8%)", "close", "UAL", ["2009-07-09", 1], 3.18, 0.005),
    _c("united-breaks-guitars-2009", CI, "$3.18 on 9 Jul (-4.8%)", "span", "UAL", ["2009-07-06", "2009-07-09"], -4.8, D1),
    _c("united-breaks-guitars-2009", CI, "falling 37% from $5.29 on 3 Jun", "span", "UAL", ["2009-06-03", "2009-07-06"], -37, D0),
    _c("united-breaks-guitars-2009", CI, "falling 37% from $5.29 on 3 Jun", "close", "UAL", ["2009-06-03", 1], 5.29, 0.005),
    # Peloton 2019
    _c("peloton-gift-that-gives-back-2019", CI, "Shares lost 9% on 3 Dec", "day", "PTON", ["2019-12-03"], -9, D0),
    _c("peloton-gift-that-gives-back-2019", CI, "about 15% over the week", "span", "PTON", ["2019-12-02", "2019-12-05"], -15, D0),
    _c("peloton-gift-that-gives-back-2019", TL + "2019-12-03:viral-peak", "falls about 9%", "day", "PTON", ["2019-12-03"], -9, D0),
    # Peloton 2021
    _c("peloton-and-just-like-that-2021", CI, "closed 11.3% lower on 9 Dec", "day", "PTON", ["2021-12-09"], -11.3, D1),
    _c("peloton-and-just-like-that-2021", CI, "at a 19-month low", "months_since_lower", "PTON", ["2021-12-09"], 19, 0),
    _c("peloton-and-just-like-that-2021", CI, "another 5.4% on 10 Dec", "day", "PTON", ["2021-12-10"], -5.4, D1),
    _c("peloton-and-just-like-that-2021", CI, "a 70% year-to-date decline", "span", "PTON", ["2020-12-31", "2021-12-08"], -70, D0),
    _c("peloton-and-just-like-that-2021", CI, "(73% after the 9 Dec fall)", "span", "PTON", ["2020-12-31", "2021-12-09"], -73, D0),
    _c("peloton-and-just-like-that-2021", TL + "2021-12-09:incident", "(-11.3%)", "day", "PTON", ["2021-12-09"], -11.3, D1),
    _c("peloton-and-just-like-that-2021", TL + "2021-12-10:downgrade", "lose another 5.4%", "day", "PTON", ["2021-12-10"], -5.4, D1),
    # Bud Light 2023: "yet the shares rise on the day" (no figure; the sign is checked)
    _c("bud-light-dylan-mulvaney-2023", TL + "2023-08-03:earnings", "yet the shares rise on the day", "day", "BUD",
       ["2023-08-03"], (0.0, 100.0), 0, figure=""),
    # Target 2023
    _c("target-pride-merchandise-2023", CI, "close of $160.96 on 17 May", "close", "TGT", ["2023-05-17", 1], 160.96, 0.005),
    _c("target-pride-merchandise-2023", CI, "$138.93 on 26 May", "close", "TGT", ["2023-05-26", 1], 138.93, 0.005),
    _c("target-pride-merchandise-2023", CI, "About $9-10bn of market value", "value", "TGT",
       ["2023-05-17", "2023-05-26"], (9, 10), 0.05),
    _c("target-pride-merchandise-2023", TL + "2023-05-17:earnings", "the stock jumps", "day", "TGT",
       ["2023-05-17"], (0.0, 100.0), 0, figure=""),
    _c("target-pride-merchandise-2023", TL + "2023-05-17:earnings", "the $9-10bn loss claims", "value", "TGT",
       ["2023-05-17", "2023-05-26"], (9, 10), 0.05),
    # Nike 2018
    _c("nike-kaepernick-just-do-it-2018", CI, "Shares fell 3.2%", "day", "NKE", ["2018-09-04"], -3.2, D1),
    _c("nike-kaepernick-just-do-it-2018", CI, "3.9%, the day's low", "low", "NKE", ["2018-09-04"], -3.9, D1),
    _c("nike-kaepernick-just-do-it-2018", CI, "close at $79.60", "close", "NKE", ["2018-09-04", 1], 79.60, 0.005),
    _c("nike-kaepernick-just-do-it-2018", CI, "4.9% above the 4 Sep close", "span", "NKE", ["2018-09-04", "2018-09-14"], 4.9, D1),
    _c("nike-kaepernick-just-do-it-2018", CI, "1.6% above the 31 Aug close", "span", "NKE", ["2018-08-31", "2018-09-14"], 1.6, D1),
    _c("nike-kaepernick-just-do-it-2018", CI, "at record closing highs", "record_run", "NKE", ["2018-09-14"], (1, 99), 0, ""),
    _c("nike-kaepernick-just-do-it-2018", TL + "2018-09-04:viral-peak", "falls 3.2%", "day", "NKE", ["2018-09-04"], -3.2, D1),
    _c("nike-kaepernick-just-do-it-2018", TL + "2018-09-14:resolution", "third session running (12-14 Sep",
       "record_run", "NKE", ["2018-09-14"], 3, 0, "third"),
    _c("nike-kaepernick-just-do-it-2018", TL + "2018-09-14:resolution", "close of $83.49", "close", "NKE",
       ["2018-09-14", 1], 83.49, 0.005),
    _c("nike-kaepernick-just-do-it-2018", TL + "2018-09-14:resolution", "4.9% above the 4 Sep close", "span", "NKE",
       ["2018-09-04", "2018-09-14"], 4.9, D1),
    _c("nike-kaepernick-just-do-it-2018", TL + "2018-09-14:resolution", "1.6% above the 31 Aug close", "span", "NKE",
       ["2018-08-31", "2018-09-14"], 1.6, D1),
    # Snap 2018 (Kylie Jenner, Rihanna)
    _c("kylie-jenner-snapchat-tweet-2018", CI, "as much as 7-8.5% intraday", "low", "SNAP", ["2018-02-22"], (-8.5, -7), 0.05),
    _c("kylie-jenner-snapchat-tweet-2018", CI, "closed 6.1% lower on 22 Feb", "day", "SNAP", ["2018-02-22"], -6.1, D1),
    _c("kylie-jenner-snapchat-tweet-2018", TL + "2018-02-22:viral-peak", "closes 6.1% lower", "day", "SNAP", ["2018-02-22"], -6.1, D1),
    _c("rihanna-snapchat-would-you-rather-ad-2018", CI, "Shares fell 4% on 15 Mar", "day", "SNAP", ["2018-03-15"], -4, D0),
    _c("rihanna-snapchat-would-you-rather-ad-2018", CI, "another 1-2% on 16 Mar", "day", "SNAP", ["2018-03-16"], (-2, -1), 0.05),
    _c("rihanna-snapchat-would-you-rather-ad-2018", TL + "2018-03-15:incident", "(-4%)", "day", "SNAP", ["2018-03-15"], -4, D0),
    # Facebook 2018 (META.csv carries FB)
    _c("facebook-cambridge-analytica-2018", CI, "lost 6.8% on 19 Mar", "day", "META", ["2018-03-19"], -6.8, D1),
    _c("facebook-cambridge-analytica-2018", CI, "(about $36-37bn)", "value", "META", ["2018-03-16", "2018-03-19"], (36, 37), 0.05),
    _c("facebook-cambridge-analytica-2018", CI, "2.6% on 20 Mar", "day", "META", ["2018-03-20"], -2.6, D1),
    _c("facebook-cambridge-analytica-2018", CI, "the fall was 14%", "span", "META", ["2018-03-16", "2018-03-23"], -14, D0),
    _c("facebook-cambridge-analytica-2018", CI, "(about $75bn)", "value", "META", ["2018-03-16", "2018-03-23"], 75, 0.05),
    _c("facebook-cambridge-analytica-2018", CI, "against 6% for the S&P 500", "span", "^GSPC", ["2018-03-16", "2018-03-23"], -6, D0),
    # Netflix 2011 (adj_close carries the 2025 split; close the 2015 one: ratios only)
    _c("netflix-qwikster-2011", CI, "Shares fell 7% on 19 Sep", "day", "NFLX", ["2011-09-19"], -7, D0),
    _c("netflix-qwikster-2011", CI, "a 19% fall on 15 Sep", "day", "NFLX", ["2011-09-15"], -19, D0),
    _c("netflix-qwikster-2011", CI, "dropped 35% on the 25 Oct results", "day", "NFLX", ["2011-10-25"], -35, D0),
    _c("netflix-qwikster-2011", CI, "ended 2011 77% below its highest July close", "span", "NFLX",
       ["max:2011-07-01:2011-07-29", "2011-12-30"], -77, D0),
    _c("netflix-qwikster-2011", TL + "2011-09-15:other-news", "the stock falls 19%", "day", "NFLX", ["2011-09-15"], -19, D0),
    _c("netflix-qwikster-2011", TL + "2011-09-18:incident", "(-7%)", "day", "NFLX", ["2011-09-19"], -7, D0),
    _c("netflix-qwikster-2011", TL + "2011-10-25:earnings", "The stock falls 35%", "day", "NFLX", ["2011-10-25"], -35, D0),
    # Papa John's 2018
    _c("papa-johns-schnatter-slur-2018", CI, "fell up to 5.9% (to $47.80)", "low", "PZZA", ["2018-07-11"], -5.9, D1),
    _c("papa-johns-schnatter-slur-2018", CI, "closed about 4.8% down on 11 Jul", "day", "PZZA", ["2018-07-11"], -4.8, D1),
    # Abercrombie 2013: the "8% share slide in May" is the 24 May (Q1 results) session.
    _c("abercrombie-ceo-cool-kids-2013", CI, "an 8% share slide in May", "day", "ANF", ["2013-05-24"], -8, D0),
    _c("abercrombie-ceo-cool-kids-2013", CI, "the 17.7% fall on 22 Aug 2013", "day", "ANF", ["2013-08-22"], -17.7, D1),
    _c("abercrombie-ceo-cool-kids-2013", TL + "2013-08-22:earnings", "down 17.7%", "day", "ANF", ["2013-08-22"], -17.7, D1),
    # Under Armour 2017
    _c("under-armour-plank-trump-asset-2017", CI, "UAA's low that day is only 1.7%", "low", "UAA", ["2017-02-15"], -1.7, D1),
    _c("under-armour-plank-trump-asset-2017", CI, "closed 0.6% higher", "day", "UAA", ["2017-02-15"], 0.6, D1),
    _c("under-armour-plank-trump-asset-2017", TL + "2017-01-31:earnings", "down 25.7%", "day", "UAA", ["2017-01-31"], -25.7, D1),
    _c("under-armour-plank-trump-asset-2017", TL + "2017-01-31:earnings", "lowest close since January 2014",
       "months_since_lower", "UAA", ["2017-01-31"], 36, 0, "2014"),
    # Spotify 2022 ("from 26 to 28 Jan" = the sessions 26-28 Jan, from the 25 Jan close)
    _c("spotify-joe-rogan-neil-young-2022", CI, "shares fell 6% from 26 to 28 Jan", "span", "SPOT",
       ["2022-01-25", "2022-01-28"], -6, D0),
    _c("spotify-joe-rogan-neil-young-2022", CI, "other outlets said 12%", "span", "SPOT", ["2022-01-21", "2022-01-28"], -12, D0),
    _c("spotify-joe-rogan-neil-young-2022", CI, "down 25% for the year by 26 Jan", "span", "SPOT", ["2021-12-31", "2022-01-26"], -25, D0),
    _c("spotify-joe-rogan-neil-young-2022", CI, "(25.3% below the end-2021 close", "span", "SPOT", ["2021-12-31", "2022-01-26"], -25.3, D1),
    _c("spotify-joe-rogan-neil-young-2022", CI, "10.8% on 20 Jan)", "span", "SPOT", ["2021-12-31", "2022-01-20"], -10.8, D1),
    _c("spotify-joe-rogan-neil-young-2022", TL + "2022-01-20:other-news", "Spotify falls 6.3% on 21 Jan", "day", "SPOT",
       ["2022-01-21"], -6.3, D1),
    _c("spotify-joe-rogan-neil-young-2022", TL + "2022-01-20:other-news", "17.3% below its end-2021 close by 24 Jan",
       "span", "SPOT", ["2021-12-31", "2022-01-24"], -17.3, D1),
    _c("spotify-joe-rogan-neil-young-2022", TL + "2022-01-20:other-news", "(25.3% by 26 Jan", "span", "SPOT",
       ["2021-12-31", "2022-01-26"], -25.3, D1),
    # SeaWorld (SEAS.csv is today's PRKS)
    _c("seaworld-blackfish-2013", CI, "the stock lost 33%", "day", "SEAS", ["2014-08-13"], -33, D0),
    _c("seaworld-blackfish-2013", TL + "2014-08-13:earnings", "the stock drops 33%", "day", "SEAS", ["2014-08-13"], -33, D0),
    # Tesla 2020 (the close column carries the 2020 5:1 split only, so x5 gives the quoted price)
    _c("tesla-musk-stock-price-too-high-tweet-2020", CI, "dropped as much as 13%", "low", "TSLA", ["2020-05-01"], -13, D0),
    _c("tesla-musk-stock-price-too-high-tweet-2020", CI, "closed 10.3% lower", "day", "TSLA", ["2020-05-01"], -10.3, D1),
    _c("tesla-musk-stock-price-too-high-tweet-2020", CI, "($781.88 to", "close", "TSLA", ["2020-04-30", 5], 781.88, 0.005),
    _c("tesla-musk-stock-price-too-high-tweet-2020", CI, "$701.32)", "close", "TSLA", ["2020-05-01", 5], 701.32, 0.005),
    _c("tesla-musk-stock-price-too-high-tweet-2020", CI, "recovered within a week", "span", "TSLA",
       ["2020-04-30", "2020-05-08"], (0.0, 100.0), 0, ""),
    # Carnival 2013
    _c("carnival-triumph-poop-cruise-2013", CI, "Shares fell 4% on Wed 13 Feb", "day", "CCL", ["2013-02-13"], -4, D0),
    # Coca-Cola 2021 (ex-dividend: only the adjusted return is meaningful)
    _c("coca-cola-ronaldo-press-conference-2021", CI, "close-to-close return was -0.3%", "day", "KO", ["2021-06-14"], -0.3, D1),
    _c("coca-cola-ronaldo-press-conference-2021", TL + "2021-06-14:ex-dividend", "return that day is -0.3%", "day", "KO",
       ["2021-06-14"], -0.3, D1),
    # Netflix Cuties 2020
    _c("netflix-cuties-cancelnetflix-2020", CI, "$500.19 (9 Sep)", "close", "NFLX", ["2020-09-09", 1], 500.19, 0.005),
    _c("netflix-cuties-cancelnetflix-2020", CI, "$470.20 (17 Sep)", "close", "NFLX", ["2020-09-17", 1], 470.20, 0.005),
    # Jaguar 2024: "about 17% between 19 Nov 2024 and Aug 2025" must lie within August 2025's range
    _c("jaguar-copy-nothing-rebrand-2024", CI, "Tata Motors lost about 17%", "span_range", "TATAMOTORS.NS",
       ["2024-11-19", "2025-08-01", "2025-08-29"], -17, D0),
    # Tesla 2018
    _c("tesla-funding-secured-tweet-2018", CI, "closed roughly 11% up on 7 Aug", "day", "TSLA", ["2018-08-07"], 11, D0),
    _c("tesla-musk-pedo-guy-tweet-2018", CI, "closed about 2.75-3.5% lower", "day", "TSLA", ["2018-07-16"], (-3.5, -2.75), 0.05),
    _c("tesla-musk-pedo-guy-tweet-2018", CI, "close -2.75%", "day", "TSLA", ["2018-07-16"], -2.75, 0.05),
    _c("tesla-musk-pedo-guy-tweet-2018", CI, "low 4.0% below the previous close", "low", "TSLA", ["2018-07-16"], -4.0, D1),
]

#: Price figures the shared daily data cannot check: (incident, where, quote, reason).
NO_FILE = "no price file for the ticker in the shared data"
INTRADAY = "intraday or pre-market, not checkable from daily closes"
VALUE = "market value: needs a share count the catalog does not carry for this incident"
VAGUE = "market value over an unstated period"
UNCHECKABLE: list[tuple[str, str, str, str]] = [
    (UAL17, CI, "about $1bn, or $1.4bn, of market value", VALUE),
    (UAL17, CI, "pre-market (-6.3%)", INTRADAY),
    (UAL17, CI, "(roughly $255M)", VALUE),
    ("united-breaks-guitars-2009", CI, "dropped 10% in four days at a cost of $180 million",
     "the column names no dates or prices; the closes around it are checked instead (no 4-session fall of 10%)"),
    ("hm-coolest-monkey-hoodie-2018", CI, "more than 55% below its 2015 high", NO_FILE + " (HM-B.ST)"),
    ("peloton-gift-that-gives-back-2019", CI, "(about $942M)", VALUE),
    ("peloton-gift-that-gives-back-2019", CI, "($1.5-1.6bn)", VALUE),
    ("peloton-and-just-like-that-2021", CI, "(reported as 5.7%;", "the press figure, kept beside the computed 5.4%"),
    ("peloton-and-just-like-that-2021", TL + "2021-12-10:downgrade", "the press reported 5.7%",
     "the press figure, kept beside the computed 5.4%"),
    ("bud-light-dylan-mulvaney-2023", CI, "from $15.7bn (IBD) to more than $20bn", VAGUE),
    ("target-pride-merchandise-2023", CI, "about $13bn by mid-June", VAGUE),
    ("kylie-jenner-snapchat-tweet-2018", CI, "about $1.3bn (Bloomberg/Reuters: up to $1.5bn)", VALUE),
    ("kylie-jenner-snapchat-tweet-2018", TL + "2018-02-22:viral-peak", "the loss at $1.3bn", VALUE),
    ("rihanna-snapchat-would-you-rather-ad-2018", CI, "about $800M of value according to WSJ/CNN (other estimates $600M-$1bn)",
     VALUE),
    ("adidas-ye-termination-2022", CI, "Shares fell up to 5.8% on 25 Oct", NO_FILE + " (ADS.DE)"),
    ("lululemon-chip-wilson-comments-2013", CI, "about $6bn of market value", VAGUE),
    ("kenneth-cole-cairo-tweet-2011", CI, "KCP up about 2.5%", NO_FILE + " (KCP)"),
    ("under-armour-plank-trump-asset-2017", CI, "from $24 to $14 (about $4.5bn implied)", "an analyst's price target"),
    ("under-armour-plank-trump-asset-2017", TL + "2017-02-15:downgrade", "from $24 to $14.", "an analyst's price target"),
    ("under-armour-plank-trump-asset-2017", CI, "shares were reported 2.6% lower that morning",
     "a morning quote; the day's low in the data (1.7% down) is checked instead"),
    ("under-armour-plank-trump-asset-2017", TL + "2017-01-31:earnings", "often reported as 23%",
     "the press figure, kept beside the computed 25.7%"),
    ("spotify-joe-rogan-neil-young-2022", CI, "(about $2.1bn)", VALUE),
    ("spotify-joe-rogan-neil-young-2022", CI, "the Nasdaq gained 1.7%", "the Nasdaq Composite is not in the shared data (QQQ: +1.9%)"),
    ("spotify-joe-rogan-neil-young-2022", CI, "or $4bn over the week", VALUE),
    ("tesla-musk-stock-price-too-high-tweet-2020", CI, "about $14-15bn of market value", VALUE),
    ("coca-cola-ronaldo-press-conference-2021", CI, "erased $4bn from Coca-Cola's value (-1.6%, $56.16 to $55.26,",
     INTRADAY + " (9:40am quote)"),
    ("coca-cola-ronaldo-press-conference-2021", TL + "2021-06-14:ex-dividend", "from $56.16 to $55.26 by 9:40am", INTRADAY),
    ("coca-cola-ronaldo-press-conference-2021", TL + "2021-06-14:viral-peak", "$4bn was wiped", INTRADAY + "; market value"),
    ("cracker-barrel-logo-change-2025", CI, "fell up to 13-14% intraday and closed 7.2% lower", NO_FILE + " (CBRL)"),
    ("cracker-barrel-logo-change-2025", CI, "(about $94M of market value; some reports $100-200M)", NO_FILE + " (CBRL)"),
    ("cracker-barrel-logo-change-2025", CI, "rose 8% on 27 Aug", NO_FILE + " (CBRL)"),
    ("cracker-barrel-logo-change-2025", TL + "2025-08-21:viral-peak", "as much as 13-14% intraday and close 7.2% lower",
     NO_FILE + " (CBRL)"),
    ("cracker-barrel-logo-change-2025", TL + "2025-08-26:resolution", "gains 8% the next day", NO_FILE + " (CBRL)"),
    ("american-eagle-sydney-sweeney-great-jeans-2025", CI, "+4.2% on launch day and +23% on 4 Aug",
     "AEO.csv ends 2020-12-11"),
    ("american-eagle-sydney-sweeney-great-jeans-2025", TL + "2025-07-23:incident", "(+4.2%)", "AEO.csv ends 2020-12-11"),
    ("american-eagle-sydney-sweeney-great-jeans-2025", TL + "2025-08-04:other-news", "the stock jumps 23%",
     "AEO.csv ends 2020-12-11"),
    ("jaguar-copy-nothing-rebrand-2024", CI, "(~$7bn)", VALUE),
    ("tesla-funding-secured-tweet-2018", CI, "from about $342.50 to about $380", INTRADAY),
    ("tesla-funding-secured-tweet-2018", CI, "had already added about 2%", INTRADAY),
    ("tesla-funding-secured-tweet-2018", TL + "2018-08-07:other-news", "had already added about 2%", INTRADAY),
    ("tesla-musk-pedo-guy-tweet-2018", CI, "Reports said shares fell up to 3.6%",
     "a press quote of the intraday fall; the day's low in the data (4.0% down) is checked instead"),
    ("tesla-musk-pedo-guy-tweet-2018", CI, "close to $2bn of market value", VALUE),
]

#: Figures that look like prices but are not about the share price: (incident, where, quote, what).
NOT_ABOUT_PRICES: list[tuple[str, str, str, str]] = [
    ("pepsi-kendall-jenner-ad-2017", CI, "44% of viewers felt more favourable after watching against about 25% less", "survey"),
    ("pepsi-kendall-jenner-ad-2017", TL + "2017-04-05:viral-peak", "from 13% to 37%", "survey"),
    ("gucci-blackface-balaclava-sweater-2019", "summary", "an $890 black wool", "retail price"),
    ("bud-light-dylan-mulvaney-2023", CI, "down 21-27%; in Q2 2023 AB InBev's US revenue fell 10.5%, North American "
     "revenue by $395M and US EBITDA by 28%", "sales and earnings"),
    ("bud-light-dylan-mulvaney-2023", TL + "2023-08-03:earnings", "US revenue down 10.5%", "revenue"),
    ("target-pride-merchandise-2023", CI, "comparable sales fell 5.4%", "sales"),
    ("nike-kaepernick-just-do-it-2018", CI, "online sales up 31% from Sunday to Tuesday against 17%", "sales"),
    ("gillette-best-men-can-be-2019", CI, "$8bn non-cash writedown", "accounting charge"),
    ("gillette-best-men-can-be-2019", TL + "2019-07-30:other-news", "by $8bn (non-cash)", "accounting charge"),
    ("starbucks-philadelphia-arrest-2018", CI, "from $12M to $20M", "cost of the closure"),
    ("netflix-qwikster-2011", "summary", "a 60% price increase", "subscription price"),
    ("netflix-qwikster-2011", TL + "2011-07-12:other-news", "the 60% price increase", "subscription price"),
    ("adidas-ye-termination-2022", CI, "up to EUR250M (later a EUR500M revenue effect); Yeezy was about 8% of sales, "
     "EUR1.5bn", "earnings and sales"),
    ("balenciaga-holiday-campaign-2022", CI, "revenue fell 7%", "revenue"),
    ("balenciaga-holiday-campaign-2022", CI, "Balenciaga down 4%", "revenue"),
    ("balenciaga-holiday-campaign-2022", CI, "estimates by about 4%", "analyst's earnings estimate"),
    ("papa-johns-schnatter-slur-2018", CI, "down about 10.5% and cut its full-year comps guidance to -7% to -10%", "sales"),
    ("papa-johns-schnatter-slur-2018", TL + "2018-08-07:earnings", "fell about 10.5%", "sales"),
    ("lululemon-chip-wilson-comments-2013", CI, "recall earlier that year ($57-67M)", "cost of the recall"),
    ("abercrombie-ceo-cool-kids-2013", CI, "US sales (-17%)", "sales"),
    ("abercrombie-ceo-cool-kids-2013", CI, "a 33% drop in Q2 profit", "profit"),
    ("abercrombie-ceo-cool-kids-2013", CI, "sales were 13% lower", "sales"),
    ("abercrombie-ceo-cool-kids-2013", TL + "2013-08-22:earnings", "(profit -33%)", "profit"),
    ("seaworld-blackfish-2013", CI, "(H1 2014 -4.3%); attendance fell 5.6% in Q3 2014 and 7.6%", "attendance"),
    ("goya-boycott-unanue-2020", CI, "sales up 22% over two weeks (+56%", "sales"),
    ("uber-deleteuber-2017", CI, "from 16.1% to 21.5%", "ride share"),
    ("hm-xinjiang-cotton-boycott-2021", CI, "fell 23% in local currency (28% in SEK)", "sales"),
    ("hm-xinjiang-cotton-boycott-2021", CI, "about 5% of group sales", "sales"),
    ("gap-logo-change-2010", CI, "$100 million", "claimed cost of the redesign"),
    ("prada-pradamalia-blackface-2018", "summary", "as $550 keychains", "retail price"),
    ("cracker-barrel-logo-change-2025", "summary", "a $700M makeover", "investment programme"),
    ("american-eagle-sydney-sweeney-great-jeans-2025", CI, "store visits 9% lower", "store traffic"),
    ("american-eagle-sydney-sweeney-great-jeans-2025", CI, "web visits up 60%", "web traffic"),
    ("jaguar-copy-nothing-rebrand-2024", CI, "sales fell 97.5%", "sales"),
    ("tesla-funding-secured-tweet-2018", "summary", "at $420 a share", "the proposed buy-out price"),
    ("tesla-funding-secured-tweet-2018", "summary", "$20M fines", "fines"),
]

#: A number with %, a currency amount, or an amount in bn/billion (a range "a-b" counts as one).
NUMBER = r"\d+(?:[.,]\d+)*(?:-\d+(?:[.,]\d+)*)?"
PRICE_LIKE = re.compile(
    rf"(?:US\$|\$|EUR|€|£)\s?{NUMBER}(?:\s?(?:bn|billion|M|million|k)\b)?"
    rf"|[-+]?{NUMBER}\s?%"
    rf"|{NUMBER}\s?(?:bn|billion)\b"
)


def catalog_texts() -> dict[tuple[str, str], str]:
    """``(incident id, where) -> text`` for every text cell of both packaged files."""
    texts: dict[tuple[str, str], str] = {}
    with open(DATASETS / "incidents.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for field in INCIDENT_FIELDS:
                texts[row["id"], field] = row[field]
    with open(DATASETS / "timelines.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["incident_id"], f"timeline:{row['date']}:{row['kind']}")
            assert key not in texts, f"two timeline rows share {key}"
            texts[key] = row["description"]
    return texts


TEXTS = catalog_texts()


def registered() -> list[tuple[str, str, str]]:
    return ([(c.incident, c.where, c.quote) for c in CLAIMS]
            + [q[:3] for q in UNCHECKABLE] + [q[:3] for q in NOT_ABOUT_PRICES])


# --------------------------------------------------------------------------- text-only checks


def test_every_registered_quote_is_in_the_catalog():
    missing = [q for q in registered() if q[:2] not in TEXTS or q[2] not in TEXTS[q[:2]]]
    assert not missing, f"quotes no longer in the catalog (update the table): {missing}"


@pytest.mark.parametrize("claim", CLAIMS, ids=[f"{c.incident}|{c.where}|{c.quote}" for c in CLAIMS])
def test_claimed_figure_is_the_one_in_the_text(claim):
    figures = [claim.figure] if claim.figure is not None else [
        f"{abs(x):g}" for x in (claim.claimed if isinstance(claim.claimed, tuple) else (claim.claimed,))]
    for figure in figures:
        assert figure in claim.quote, f"{figure!r} not in {claim.quote!r}"


def test_every_price_figure_is_accounted_for():
    covered: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for incident, where, quote in registered():
        text = TEXTS.get((incident, where), "")
        start = text.find(quote)
        while start >= 0:
            covered.setdefault((incident, where), []).append((start, start + len(quote)))
            start = text.find(quote, start + 1)
    unaccounted = []
    for key, text in TEXTS.items():
        for m in PRICE_LIKE.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b in covered.get(key, ())):
                unaccounted.append(f"{key[0]} [{key[1]}]: {m.group()!r} in {text!r}")
    assert not unaccounted, (
        "price-like figures neither checked in CLAIMS nor listed in UNCHECKABLE / NOT_ABOUT_PRICES:\n"
        + "\n".join(unaccounted))


def test_scan_finds_the_usual_shapes():
    found = [m.group() for m in PRICE_LIKE.finditer("fell 4% ($1.4bn), -6.3%, 2.75-3.5%, $79.60. EUR250M, 36 bn, 3 Dec, 1,600 views")]
    assert found == ["4%", "$1.4bn", "-6.3%", "2.75-3.5%", "$79.60", "EUR250M", "36 bn"]


def test_united_2017_note_no_longer_claims_a_sector_fall():
    note = TEXTS[UAL17, "timeline:2017-04-11:viral-peak"]
    assert "also fall" not in note and "not sector-wide" in note and ADJ[:14] in note
    # the sector check is a remark on the day, not other news that could move UAL by itself
    assert (UAL17, "timeline:2017-04-11:other-news") not in TEXTS


# --------------------------------------------------------------------------- against the prices


@cache
def prices(ticker: str) -> pd.DataFrame:
    path = PRICES / f"{ticker.lstrip('^')}.csv"
    return pd.read_csv(path, index_col="date", parse_dates=True)


def _at(series: pd.Series, date: str) -> int:
    return series.index.get_loc(pd.Timestamp(date))


def _level(series: pd.Series, spec: str) -> float:
    """``series`` on a date, or the highest value in a date range given as ``max:<start>:<end>``."""
    if spec.startswith("max:"):
        _, start, end = spec.split(":")
        return float(series.loc[start:end].max())
    return float(series.iloc[_at(series, spec)])


def shares(incident: str) -> float:
    with open(DATASETS / "incidents.csv", encoding="utf-8", newline="") as fh:
        value = next(r["shares_outstanding"] for r in csv.DictReader(fh) if r["id"] == incident)
    assert value, f"{incident} has no shares_outstanding for a market-value check"
    return float(value)


def measure(claim: Claim) -> float | tuple[float, float]:
    """Recompute ``claim`` from the shared prices (percent, price, $bn, sessions or months)."""
    df = prices(claim.ticker)
    adj = df["adj_close"].dropna()
    if claim.measure == "day":
        i = _at(adj, claim.args[0])
        return 100 * (adj.iloc[i] / adj.iloc[i - 1] - 1)
    if claim.measure == "span":
        return 100 * (_level(adj, claim.args[1]) / _level(adj, claim.args[0]) - 1)
    if claim.measure == "span_range":
        start, first, last = claim.args
        ends = adj.loc[first:last]
        returns = 100 * (ends / _level(adj, start) - 1)
        return float(returns.min()), float(returns.max())
    if claim.measure == "low":
        i = _at(df, claim.args[0])
        low, previous = df["low"].iloc[i], df["close"].iloc[i - 1]
        assert pd.notna(low) and pd.notna(previous), f"{claim.ticker}: no low/close around {claim.args[0]}"
        return 100 * (low / previous - 1)
    if claim.measure == "close":
        date, factor = claim.args
        value = df["close"].iloc[_at(df, date)]
        assert pd.notna(value), f"{claim.ticker}: no as-published close on {date}"
        return float(value) * factor
    if claim.measure == "value":
        close = df["close"]
        start, end = claim.args
        return shares(claim.incident) * (close.iloc[_at(close, start)] - close.iloc[_at(close, end)]) / 1e9
    if claim.measure == "record_run":
        close = df["close"].dropna()
        run, i = 0, _at(close, claim.args[0])
        while i > 0 and close.iloc[i] > close.iloc[:i].max():
            run, i = run + 1, i - 1
        return run
    if claim.measure == "months_since_lower":
        close = adj
        i = _at(close, claim.args[0])
        earlier = close.iloc[:i]
        last = earlier[earlier <= close.iloc[i]].index[-1]
        day = pd.Timestamp(claim.args[0])
        return (day.year - last.year) * 12 + day.month - last.month
    raise ValueError(claim.measure)


def holds(claim: Claim, computed) -> bool:
    if claim.measure == "span_range":  # the claimed figure must lie within the range of end dates
        lo, hi = computed
        return lo - claim.tol <= claim.claimed <= hi + claim.tol
    if claim.measure == "value":  # tolerance relative to the claim
        lo, hi = claim.claimed if isinstance(claim.claimed, tuple) else (claim.claimed,) * 2
        return lo * (1 - claim.tol) <= computed <= hi * (1 + claim.tol)
    if isinstance(claim.claimed, tuple):
        lo, hi = claim.claimed
        return lo - claim.tol <= computed <= hi + claim.tol
    return abs(computed - claim.claimed) <= claim.tol


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
@pytest.mark.parametrize("claim", CLAIMS, ids=[f"{c.incident}|{c.where}|{c.quote}" for c in CLAIMS])
def test_claim_matches_the_prices(claim):
    computed = measure(claim)
    assert holds(claim, computed), (
        f"{claim.incident} [{claim.where}] says {claim.quote!r}: {claim.measure} of {claim.ticker} "
        f"{claim.args} is {computed}, claimed {claim.claimed} +/- {claim.tol}")


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_united_2017_peers_rose_on_day_plus_1():
    """Issue 11: the peers of the catalog entry (DAL, AAL, LUV) all rose on 2017-04-11 while UAL fell."""
    moves = {t: measure(Claim(UAL17, "", "", "day", t, ("2017-04-11",), 0.0, 0.0)) for t in ("UAL", "DAL", "AAL", "LUV")}
    assert moves["UAL"] < 0 < min(moves["DAL"], moves["AAL"], moves["LUV"])


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_uncheckable_no_file_reasons_still_hold():
    """A claim parked as "no price file" must be moved into CLAIMS once the file arrives."""
    tickers = {"HM-B.ST": dt.date(2018, 1, 8), "ADS.DE": dt.date(2022, 10, 25), "KCP": dt.date(2011, 2, 3),
               "CBRL": dt.date(2025, 8, 21), "AEO": dt.date(2025, 7, 23)}
    for ticker, day in tickers.items():
        path = PRICES / f"{ticker}.csv"
        assert not path.exists() or pd.Timestamp(day) not in prices(ticker).index, f"{ticker} now has prices for {day}"
