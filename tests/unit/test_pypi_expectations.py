"""The reusable great-expectations runner and the PyPI suite's own pieces (grain key, coverage, band)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from madlake.quality.expectations import expectation, run_expectations
from madlake.quality.pypi_suite import BAND_LABEL, coverage, expectations_for, grain_key
from madlake.sources.pypi.settings import PypiSettings


def test_results_come_back_in_order_with_labels_and_observations() -> None:
    data = pa.table({"n": [1, 2, None], "cc": ["US", None, "usa"]})
    report = run_expectations(
        data,
        [
            expectation("expect_column_values_to_not_be_null", column="n"),
            expectation("expect_column_values_to_match_regex", label="cc ok", column="cc", regex=r"^[A-Z]{2}$"),
            expectation("expect_column_values_to_be_between", label="n >= 1", column="n", min_value=1),
            expectation("expect_column_sum_to_be_between", label="sum", column="n", min_value=10, max_value=20),
        ],
    )
    assert [r.expectation for r in report.results] == [
        "expect_column_values_to_not_be_null(n)",
        "cc ok",
        "n >= 1",
        "sum",
    ]
    assert [r.success for r in report.results] == [False, False, True, False]
    assert "1 of 3 rows unexpected" in report.results[0].observed
    assert "usa" in report.results[1].observed  # failing examples are quoted; the null country is allowed
    assert "observed 3" in report.results[3].observed
    assert report.rows == 3 and not report.success


def test_a_broken_expectation_is_an_error_not_a_failed_audit() -> None:
    data = pa.table({"n": [1]})
    with pytest.raises(ValueError, match="expect_nothing_like_this"):
        run_expectations(data, [expectation("expect_nothing_like_this", column="n")])
    with pytest.raises(ValueError, match="missing_column"):
        run_expectations(data, [expectation("expect_column_values_to_not_be_null", column="missing_column")])


def test_grain_key_treats_nulls_as_equal_and_distinguishes_values() -> None:
    base = {
        "download_date": [date(2026, 3, 1)] * 3,
        "project": ["duckdb"] * 3,
        "version": ["1.0"] * 3,
        "installer": [None, None, "pip"],
        "python_version": ["3.11"] * 3,
        "system": [None] * 3,
        "country_code": ["US"] * 3,
        "ci": [None, None, None],
    }
    keys = grain_key(pa.table(base)).to_pylist()
    assert keys[0] == keys[1] != keys[2]


def test_coverage_lists_the_absent_and_fails_a_partial_day() -> None:
    settings = PypiSettings(max_absent_share=0.5)
    staged = pa.table({"project": ["a", "b", "b"]})
    ok, absent = coverage(staged, ["a", "b", "c"], settings)
    assert ok.success and absent == ["c"] and "2 of 3 present; absent (1): c" in ok.observed
    bad, absent = coverage(staged, ["a", "b", "c", "d", "e"], settings)
    assert not bad.success and absent == ["c", "d", "e"]


def test_band_needs_history_then_bounds_the_sum() -> None:
    settings = PypiSettings(band_low=0.5, band_high=2.0, band_min_history=3)
    day = date(2026, 3, 10)
    configs, skipped = expectations_for(day, ["a"], settings, {date(2026, 3, 9): 100})
    assert skipped is not None and skipped.success and "skipped" in skipped.observed
    assert not [c for c in configs if c["label"] == BAND_LABEL]
    history = {date(2026, 3, d): v for d, v in [(7, 100), (8, 300), (9, 200)]}
    configs, skipped = expectations_for(day, ["a"], settings, history)
    (band,) = [c for c in configs if c["label"] == BAND_LABEL]
    assert skipped is None and band["kwargs"]["min_value"] == 100 and band["kwargs"]["max_value"] == 400
