"""Forecast each campaign's hourly answer rate for the next 24 hours from the `answer_rate_hourly` mart.

The forecasting guide's method, on the warehouse instead of an API: per campaign, the hourly answer rate
(connects / attempts, local wall-clock hours of the marts' time zone) is decomposed with STL at a 24-hour
period (robust), the trend is extrapolated linearly (its mean hourly slope), the last seasonal cycle is added,
and the result is clamped to [0, 1]. Hours the campaign did not dial are null in the mart; for the
decomposition they are filled with the campaign's mean answer rate at that hour of day (else its overall
mean), and the forecast is left empty for hours of day it did not dial in its last seven days (no call, no
rate). The band is the forecast plus or minus 1.96 robust standard deviations of the residuals of dialled
hours, clamped to [0, 1].

Writes `<out>/<campaign>.csv` (hour_local, forecast, lower, upper) and `<out>/<campaign>.png` (the last week:
observed rate, STL fit, forecast and band) per campaign. `--backtest` instead holds out each campaign's last
local day and prints the mean absolute error of this forecast and of the seasonal-naive one (same hour the day
before) on the dialled hours of that day.

    python examples/forecast.py [--warehouse output/warehouse.duckdb] [--out output/forecast] [--backtest]

Needs the optional extra: pip install 'tap-genesys-outbound[forecast]' (statsmodels, pandas, matplotlib, duckdb).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PERIOD = 24          # hours in the daily cycle
MIN_HOURS = 2 * PERIOD  # STL needs two full cycles
HORIZON = 24
SEASONAL = 23        # STL seasonal smoother in cycles (days): see README, "From rows to answers"
RECENT_DAYS = 7      # the plot's history, and the days whose dialled hours of day get a forecast
EXTRA = ("statsmodels", "pandas", "matplotlib", "duckdb")


class ForecastError(Exception):
    """A condition the user can fix, printed as one line."""


def missing_modules() -> list[str]:
    return [name for name in EXTRA if importlib.util.find_spec(name) is None]


@dataclass
class Forecast:
    fit: pd.Series        # trend + seasonal over the history
    forecast: pd.DataFrame  # index: the next hours; columns forecast, lower, upper (NaN: not a dialling hour)


def filled_for_stl(rate: pd.Series) -> pd.Series:
    """Hourly series without gaps: null hours take the campaign's mean at that hour of day, else its mean."""
    by_hour = rate.groupby(rate.index.hour).transform("mean")
    return rate.fillna(by_hour).fillna(rate.mean())


def stl_forecast(rate: pd.Series, horizon: int = HORIZON, seasonal: int = SEASONAL) -> Forecast:
    """The guide's forecast of an hourly answer-rate series (DatetimeIndex, every hour, NaN where not dialled)."""
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.seasonal import STL

    if rate.notna().sum() == 0 or len(rate) < MIN_HOURS:
        raise ForecastError(f"{len(rate)} hours of history, {MIN_HOURS} needed")
    result = STL(filled_for_stl(rate), period=PERIOD, seasonal=seasonal, robust=True).fit()
    trend, seasonal = result.trend, result.seasonal
    slope = float(trend.diff().mean())
    steps = np.arange(1, horizon + 1)
    last_cycle = seasonal.to_numpy()[-PERIOD:]
    values = trend.iloc[-1] + slope * steps + np.resize(last_cycle, horizon)
    index = pd.date_range(rate.index[-1] + pd.Timedelta(hours=1), periods=horizon, freq="h")
    residuals = result.resid[rate.notna()]
    sigma = 1.4826 * float((residuals - residuals.median()).abs().median()) if len(residuals) else 0.0
    recent = rate.iloc[-RECENT_DAYS * PERIOD:]
    dialling_hours = set(recent[recent.notna()].index.hour)
    point = pd.Series(np.clip(values, 0.0, 1.0), index=index)
    point[~point.index.hour.isin(sorted(dialling_hours))] = np.nan
    frame = pd.DataFrame({"forecast": point, "lower": (point - 1.96 * sigma).clip(0, 1),
                          "upper": (point + 1.96 * sigma).clip(0, 1)})
    return Forecast(fit=(trend + seasonal).clip(0, 1), forecast=frame)


def seasonal_naive(rate: pd.Series, horizon: int = HORIZON) -> pd.Series:
    """The baseline: each hour's rate is the same hour's rate the day before (NaN if that hour was not dialled)."""
    import numpy as np
    import pandas as pd

    index = pd.date_range(rate.index[-1] + pd.Timedelta(hours=1), periods=horizon, freq="h")
    return pd.Series(np.resize(rate.to_numpy()[-PERIOD:], horizon), index=index)


def backtest(rate: pd.Series, seasonal: int = SEASONAL) -> tuple[float, float, int]:
    """Hold out the last day: (MAE of the STL forecast, MAE of seasonal-naive, hours compared)."""
    train, test = rate.iloc[:-PERIOD], rate.iloc[-PERIOD:]
    stl = stl_forecast(train, PERIOD, seasonal).forecast["forecast"].reindex(test.index)
    naive = seasonal_naive(train, PERIOD).reindex(test.index)
    both = test.notna() & stl.notna() & naive.notna()
    if not both.any():
        raise ForecastError("no dialled hour in the held-out day")
    return (float((stl[both] - test[both]).abs().mean()), float((naive[both] - test[both]).abs().mean()),
            int(both.sum()))


def read_hourly(warehouse: Path, schema: str) -> pd.DataFrame:
    import duckdb
    import pandas as pd

    if not warehouse.exists():
        raise ForecastError(f"no warehouse at {warehouse}: run `make demo` or the meltano pipeline first")
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = connection.execute("select count(*) from information_schema.tables where table_schema = ? "
                                   "and table_name = 'answer_rate_hourly'", [schema]).fetchone()[0]
        if not found:
            raise ForecastError(f"no table {schema}.answer_rate_hourly in {warehouse}: run "
                                "`meltano run dbt-duckdb:run` after the load")
        rows = connection.execute(
            f"select campaign_id, campaign_name, hour_local, answer_rate, attempts, time_zone "  # noqa: S608
            f"from {schema}.answer_rate_hourly order by campaign_id, hour_local").fetchall()
    finally:
        connection.close()
    frame = pd.DataFrame(rows, columns=["campaign_id", "campaign_name", "hour_local", "answer_rate", "attempts",
                                        "time_zone"])
    frame["hour_local"] = pd.to_datetime(frame["hour_local"])
    frame["answer_rate"] = frame["answer_rate"].astype(float)
    return frame


def campaign_series(frame: pd.DataFrame) -> t.Iterator[tuple[str, str, pd.Series]]:
    """(campaign id, name, hourly answer rate on a complete hourly index) per campaign."""
    for campaign_id, rows in frame.groupby("campaign_id", sort=False):
        rate = rows.set_index("hour_local")["answer_rate"].sort_index()
        rate = rate[~rate.index.duplicated()].asfreq("h")
        yield campaign_id, str(rows["campaign_name"].iloc[0] or campaign_id), rate


def slug(name: str, campaign_id: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{campaign_id[:8]}"


def plot(path: Path, title: str, rate: pd.Series, result: Forecast) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = rate.index[-1] - (RECENT_DAYS * PERIOD - 1) * rate.index.freq
    history, fit = rate[start:], result.fit[start:].where(rate[start:].notna())
    band = result.forecast
    figure, axes = plt.subplots(figsize=(11, 4.2), dpi=100)
    axes.plot(history.index, history, ".", color="#4c72b0", markersize=4, label="answer rate (dialled hours)")
    axes.plot(fit.index, fit, "-", color="#55a868", linewidth=1.2, label="STL fit (trend + daily cycle)")
    axes.fill_between(band.index, band["lower"], band["upper"], color="#dd8452", alpha=0.25, linewidth=0,
                      label="forecast band (±1.96 robust σ)")
    axes.plot(band.index, band["forecast"], "-", color="#c44e52", linewidth=2, label="forecast, next 24 h")
    axes.axvline(rate.index[-1], color="grey", linewidth=0.8, linestyle=":")
    axes.set_ylim(0, 1)
    axes.set_ylabel("answer rate")
    axes.set_title(title, fontsize=11)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, ncol=2)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def write_forecasts(frame: pd.DataFrame, out: Path) -> tuple[list[Path], list[str]]:
    """CSV and PNG per campaign; returns the pictures and the campaigns skipped for too little history."""
    out.mkdir(parents=True, exist_ok=True)
    pictures, skipped = [], []
    zone = str(frame["time_zone"].iloc[0]) if len(frame) else "UTC"
    for campaign_id, name, rate in campaign_series(frame):
        if len(rate) < MIN_HOURS or rate.notna().sum() == 0:
            skipped.append(name)
            continue
        result = stl_forecast(rate)
        base = out / slug(name, campaign_id)
        table = result.forecast.round(4)
        table.index.name = "hour_local"
        table.to_csv(base.with_suffix(".csv"))
        plot(base.with_suffix(".png"), f"{name}: hourly answer rate ({zone}), last {RECENT_DAYS} days and the "
             f"next 24 h", rate, result)
        pictures.append(base.with_suffix(".png"))
    return pictures, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=ROOT / "output" / "warehouse.duckdb")
    parser.add_argument("--schema", default="marts", help="schema of answer_rate_hourly (default marts)")
    parser.add_argument("--out", type=Path, default=ROOT / "output" / "forecast")
    parser.add_argument("--backtest", action="store_true",
                        help="hold out each campaign's last day; print MAE against seasonal-naive")
    args = parser.parse_args(argv)
    missing = missing_modules()
    if missing:
        print(f"forecast: missing {', '.join(missing)}: pip install 'tap-genesys-outbound[forecast]'",
              file=sys.stderr)
        return 1
    try:
        frame = read_hourly(args.warehouse, args.schema)
        longest = int(frame.groupby("campaign_id").size().max()) if len(frame) else 0
        if longest < MIN_HOURS:
            raise ForecastError(f"too little history: at most {longest} hours per campaign in answer_rate_hourly, "
                                f"{MIN_HOURS} needed (two daily cycles)")
        if args.backtest:
            return print_backtest(frame)
        pictures, skipped = write_forecasts(frame, args.out)
    except ForecastError as error:
        print(f"forecast: {error}", file=sys.stderr)
        return 1
    shown = args.out.resolve().relative_to(ROOT) if args.out.resolve().is_relative_to(ROOT) else args.out
    note = f"; {len(skipped)} with fewer than {MIN_HOURS} hours skipped" if skipped else ""
    print(f"forecast: next 24 h for {len(pictures)} campaigns in {shown}/ (CSV + PNG each){note}")
    return 0


def print_backtest(frame: pd.DataFrame) -> int:
    """The held-out last day of each campaign: MAE of the forecast against seasonal-naive."""
    print(f"{'campaign':32} {'hours':>5} {'MAE STL':>8} {'MAE naive':>10}")
    errors: list[tuple[float, float]] = []
    for _, name, rate in campaign_series(frame):
        if len(rate) < MIN_HOURS + PERIOD:
            continue
        try:
            stl, naive, hours = backtest(rate)
        except ForecastError:
            continue
        errors.append((stl, naive))
        print(f"{name[:32]:32} {hours:>5} {stl:>8.4f} {naive:>10.4f}  {'STL' if stl < naive else 'naive'}")
    if not errors:
        raise ForecastError(f"too little history to hold out a day: {MIN_HOURS + PERIOD} hours needed")
    wins = sum(stl < naive for stl, naive in errors)
    print(f"{'mean':32} {'':>5} {sum(e[0] for e in errors) / len(errors):>8.4f} "
          f"{sum(e[1] for e in errors) / len(errors):>10.4f}")
    print(f"STL beats seasonal-naive for {wins} of {len(errors)} campaigns (held-out last day, dialled hours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
