"""The profiler and the views never raise on generated frames, and their JSON stays strict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from waitwise_tui.core.data import profile as D
from waitwise_tui.core.data import views as V

frames = data_frames(
    [
        column("f", dtype=float),
        column("i", dtype=np.int64),
        column("s", elements=st.one_of(st.none(), st.text(max_size=5))),
        column("b", dtype=bool),
        column("d", dtype="datetime64[ns]"),
    ]
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames, sample=st.one_of(st.none(), st.integers(1, 5)))
def test_profile_never_raises(frame: pd.DataFrame, sample: int | None) -> None:
    profile = D.profile_frame(frame, sample_rows=sample)
    json.dumps(D.saved_profile_dict(profile), allow_nan=False)
    for name in frame.columns:
        if D.column_kind(frame[name]) == "numeric":
            V.histogram(frame[name])
        V.top_values(frame[name])
        V.null_rows(frame, name)
    V.correlation(frame)
    for buckets in (2, 60):
        series = V.time_series(frame, "d", "f", buckets=buckets)
        assert len(series.times) <= max(buckets, 2) and series.points <= len(frame)
    V.projection(frame, target="s")
    V.duplicate_rows(frame)
    V.compare_frames(frame, frame.head(len(frame) // 2))
