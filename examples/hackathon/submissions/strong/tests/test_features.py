"""Hand-written tests of the forecast library (the team's own, next to the generated ones)."""

import numpy as np
import pandas as pd

from forecast.sales_forecast import make_features, mape


def test_mape_is_a_percentage_of_the_actual_values():
    assert mape(pd.Series([100.0, 200.0]), pd.Series([110.0, 180.0])) == 10.0


def test_features_use_only_past_sales():
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"date": days, "sales": np.arange(40, dtype=float), "promo": 0})
    feats = make_features(frame, [1, 7])
    first = feats.iloc[0]
    assert first["lag_1"] == first["sales"] - 1 and first["lag_7"] == first["sales"] - 7
    assert first["rolling_7"] == np.mean(np.arange(first["sales"] - 7, first["sales"]))
    assert len(feats) == 40 - 7
