"""examples/forecast.py: the guide's STL forecast of the hourly answer rate, on the emulator's data.

The hourly series are built from the emulator's dataset the way the answer_rate_hourly mart builds them
(attempts a live person answered / attempts, per campaign and New York wall-clock hour, null where the campaign
did not dial), so these tests need no warehouse; tests/test_meltano.py runs the script on a real one.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from genesys_emulator.dataset import NEW_YORK, Dataset, EmulatorConfig

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
import forecast  # noqa: E402

pd = pytest.importorskip("pandas")  # the forecast extra; make install installs it
LIVE = {"agent", "abandoned", "transferred"}


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    """answer_rate_hourly of the demo's dataset (50,000 attempts over 30 days)."""
    data = Dataset.generate(EmulatorConfig(attempts=50_000))
    attempts, connects = Counter(), Counter()
    for day in sorted(data._by_day):
        for a in data._by_day[day]:
            if a.kind == "inbound" or a.end is None:
                continue
            hour = datetime.fromtimestamp(a.start / 1000, NEW_YORK).replace(minute=0, second=0, microsecond=0,
                                                                           tzinfo=None)
            attempts[a.campaign, hour] += 1
            connects[a.campaign, hour] += a.kind in LIVE
    rows = []
    for campaign in sorted({c for c, _ in attempts}):
        hours = [h for c, h in attempts if c == campaign]
        first, last = min(hours).replace(hour=0), max(hours).replace(hour=23)
        for hour in pd.date_range(first, last, freq="h"):
            n = attempts.get((campaign, hour.to_pydatetime()), 0)
            rows.append({"campaign_id": data.campaigns[campaign]["id"],
                         "campaign_name": data.campaigns[campaign]["name"], "hour_local": hour,
                         "answer_rate": connects[campaign, hour.to_pydatetime()] / n if n else float("nan"),
                         "attempts": n, "time_zone": "America/New_York"})
    return pd.DataFrame(rows)


def test_forecast_beats_seasonal_naive_on_the_held_out_last_day(hourly) -> None:
    results = {name: forecast.backtest(rate) for _, name, rate in forecast.campaign_series(hourly)}
    assert len(results) == 11
    wins = [name for name, (stl, naive, hours) in results.items() if stl < naive and hours >= 10]
    assert len(wins) > len(results) / 2, results
    mean_stl = sum(r[0] for r in results.values()) / len(results)
    mean_naive = sum(r[1] for r in results.values()) / len(results)
    assert mean_stl < mean_naive


def test_forecast_is_24_clamped_hours_with_a_band_and_none_where_the_campaign_does_not_dial(hourly) -> None:
    _, _, rate = next(forecast.campaign_series(hourly))
    result = forecast.stl_forecast(rate).forecast
    assert len(result) == 24 and result.index[0] == rate.index[-1] + pd.Timedelta(hours=1)
    dialled = result.dropna()
    assert set(dialled.index.hour) == set(range(8, 21))  # the emulator dials 08:00-21:00 New York time
    assert ((dialled["lower"] <= dialled["forecast"]) & (dialled["forecast"] <= dialled["upper"])).all()
    assert dialled.min().min() >= 0 and dialled.max().max() <= 1
    evening, morning = dialled.loc[dialled.index.hour == 18, "forecast"].iloc[0], \
        dialled.loc[dialled.index.hour == 10, "forecast"].iloc[0]
    assert evening > morning  # the cycle the emulator draws


def test_csv_and_png_per_campaign(hourly, tmp_path) -> None:
    pictures, skipped = forecast.write_forecasts(hourly, tmp_path)
    assert len(pictures) == 11 and skipped == []
    import matplotlib.image

    for picture in pictures:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width, _ = matplotlib.image.imread(picture).shape
        assert width > 600 and height > 250
        table = pd.read_csv(picture.with_suffix(".csv"))
        assert list(table.columns) == ["hour_local", "forecast", "lower", "upper"] and len(table) == 24


def warehouse_with(tmp_path: Path, hours: int) -> Path:
    import duckdb

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("create schema marts")
        db.execute("create table marts.answer_rate_hourly as select 'c1' as campaign_id, 'Camp' as campaign_name, "
                   "timestamp '2026-03-01' + to_hours(i) as hour_local, 0.3 as answer_rate, 10 as attempts, "
                   f"'UTC' as time_zone from range({hours}) t(i)")
    return path


def test_too_little_history_is_one_line(tmp_path, capsys) -> None:
    assert forecast.main(["--warehouse", str(warehouse_with(tmp_path, 47)), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "too little history" in err and "48 needed" in err
    (tmp_path / "enough").mkdir()
    enough = warehouse_with(tmp_path / "enough", 48)
    assert forecast.main(["--warehouse", str(enough), "--out", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o").glob("*.png"))) == 1


def test_missing_extra_or_mart_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    assert forecast.main(["--warehouse", str(tmp_path / "none.duckdb")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    monkeypatch.setattr(forecast.importlib.util, "find_spec", lambda name: None if name == "statsmodels" else 1)
    assert forecast.main([]) == 1
    err = capsys.readouterr().err
    assert err == "forecast: missing statsmodels: pip install 'tap-genesys-outbound[forecast]'\n"
