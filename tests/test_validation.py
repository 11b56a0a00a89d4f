"""Input checks and their messages."""

import numpy as np
import pandas as pd
import pytest

from probmodels.utils.validation import check_finite, check_numeric_pandas


def test_check_finite_names_the_column():
    values = np.ones((4, 2))
    values[2, 1] = np.nan
    values[3, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"1 NaN and 1 inf value\(s\), the first at row 2 of column 'b'",
    ):
        check_finite(values, labels=["a", "b"])
    check_finite(np.full(3, 1e308))  # the sum overflows; the values are fine


def test_check_numeric_pandas_lists_columns():
    df = pd.DataFrame({"x": [1.0], "s": ["a"], "d": pd.to_datetime(["2020"])})
    with pytest.raises(TypeError, match=r"'s' \((object|str)\), 'd' \(datetime64"):
        check_numeric_pandas(df)
    check_numeric_pandas(pd.DataFrame({"i": [1], "f": [1.0], "b": [True]}))
