"""Quantiles from histogram buckets: known observations, known bucket counts, exact quantiles."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from agentotel.cli._quantiles import cumulative, histogram_quantile, normalize

INF = math.inf
# Ten observations in buckets le 1, 2, 4, 8, +Inf.
OBSERVATIONS = [0.5, 1.0, 1.5, 2.0, 3.0, 3.0, 3.0, 5.0, 7.0, 20.0]
BOUNDS = [1, 2, 4, 8]
BUCKETS = [(1.0, 2.0), (2.0, 4.0), (4.0, 7.0), (8.0, 9.0), (INF, 10.0)]


def interpolate(lower: float, upper: float, rank: float, below: float, inside: float) -> float:
    """The documented estimate: lower + (upper - lower) * (rank - count below) / count in bucket."""
    return lower + (upper - lower) * ((rank - below) / inside)


def test_observations_fill_cumulative_buckets_a_value_on_a_bound_counting_in_that_bucket() -> None:
    assert cumulative(OBSERVATIONS, BOUNDS) == BUCKETS
    assert cumulative([1.0, 2.0], [2, 1]) == [(1.0, 1.0), (2.0, 2.0), (INF, 2.0)]


def test_the_docstring_example() -> None:
    buckets = cumulative([0.05, 0.2, 0.3, 0.7], [0.1, 0.5, 1])
    assert buckets == [(0.1, 1.0), (0.5, 3.0), (1.0, 4.0), (INF, 4.0)]
    assert histogram_quantile(0.5, buckets) == interpolate(0.1, 0.5, 2, 1, 2)
    assert round(interpolate(0.1, 0.5, 2, 1, 2), 12) == 0.3


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.2, interpolate(0, 1, 2, 0, 2)),  # rank 2: the top of the first bucket
        (0.25, interpolate(1, 2, 2.5, 2, 2)),  # 1.25
        (0.5, interpolate(2, 4, 5, 4, 3)),  # 2.666...: rank 5 is the first of 3 in (2, 4]
        (0.9, interpolate(4, 8, 9, 7, 2)),  # 8.0
        (0.7, interpolate(2, 4, 7, 4, 3)),  # 4.0: rank 7 is the last of (2, 4]
    ],
)
def test_quantile_interpolates_linearly_inside_its_bucket(q: float, expected: float) -> None:
    assert histogram_quantile(q, BUCKETS) == expected


def test_known_values() -> None:
    assert histogram_quantile(0.25, BUCKETS) == 1.25
    assert histogram_quantile(0.9, BUCKETS) == 8.0


def test_a_rank_in_the_inf_bucket_is_the_highest_finite_bound() -> None:
    # rank 9.5 and 9.9 lie past le=8 (the observation 20 is only known to be > 8)
    assert histogram_quantile(0.95, BUCKETS) == 8.0
    assert histogram_quantile(0.99, BUCKETS) == 8.0
    assert histogram_quantile(1.0, BUCKETS) == 8.0
    assert histogram_quantile(0.5, [(1.0, 0.0), (INF, 3.0)]) == 1.0


def test_q_zero_is_the_lower_bound_of_the_first_non_empty_bucket() -> None:
    assert histogram_quantile(0.0, BUCKETS) == 0.0
    assert histogram_quantile(0.0, [(1.0, 0.0), (2.0, 0.0), (4.0, 3.0), (INF, 3.0)]) == 2.0


def test_q_one_is_the_upper_bound_of_the_last_non_empty_finite_bucket() -> None:
    assert histogram_quantile(1.0, [(1.0, 1.0), (2.0, 3.0), (4.0, 3.0), (INF, 3.0)]) == 2.0


def test_no_observations_gives_none() -> None:
    assert histogram_quantile(0.5, cumulative([], BOUNDS)) is None
    assert histogram_quantile(0.5, []) is None


def test_without_an_inf_bucket_gives_none() -> None:
    assert histogram_quantile(0.5, [(1.0, 2.0), (2.0, 4.0)]) is None


def test_only_an_inf_bucket_gives_none() -> None:
    assert histogram_quantile(0.5, [(INF, 4.0)]) is None


def test_a_first_bucket_at_or_below_zero_answers_its_bound() -> None:
    assert histogram_quantile(0.25, [(-1.0, 2.0), (0.0, 4.0), (INF, 8.0)]) == -1.0


def test_unsorted_and_repeated_bounds_are_merged() -> None:
    # Two series of one histogram given together: counts of the same bound add up.
    series = [(INF, 4.0), (2.0, 2.0), (1.0, 1.0), (INF, 6.0), (1.0, 3.0), (2.0, 6.0)]
    assert normalize(series) == [(1.0, 4.0), (2.0, 8.0), (INF, 10.0)]
    assert histogram_quantile(0.5, series) == interpolate(1, 2, 5, 4, 4)


def test_decreasing_counts_are_raised_to_the_running_maximum() -> None:
    torn = [(1.0, 5.0), (2.0, 4.0), (INF, 6.0)]
    assert normalize(torn) == [(1.0, 5.0), (2.0, 5.0), (INF, 6.0)]
    assert histogram_quantile(0.5, torn) == interpolate(0, 1, 3, 0, 5)


@pytest.mark.parametrize("q", [-0.1, 1.5, math.nan])
def test_q_outside_zero_one_is_an_error(q: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        histogram_quantile(q, BUCKETS)


# --- the same numbers as Prometheus itself --------------------------------------------------------
CASES = {
    "h1": BUCKETS,
    "h2": [(0.1, 1.0), (0.5, 3.0), (1.0, 4.0), (INF, 4.0)],
    "h3": [(0.001, 3.0), (0.0025, 7.0), (0.005, 7.0), (0.01, 12.0), (0.025, 12.0), (INF, 13.0)],
}
QS = (0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)


def _promtool_test(path: Path) -> str:
    lines = ["evaluation_interval: 1m", "tests:", "  - interval: 1m", "    input_series:"]
    for name, buckets in CASES.items():
        for bound, count in buckets:
            le = "+Inf" if math.isinf(bound) else repr(bound)
            lines += [f"      - series: '{name}_bucket{{le=\"{le}\"}}'", f"        values: '{count:g}'"]
    lines.append("    promql_expr_test:")
    for name, buckets in CASES.items():
        for q in QS:
            value = histogram_quantile(q, buckets)
            assert value is not None
            lines += [
                f"      - expr: histogram_quantile({q}, {name}_bucket)",
                "        eval_time: 0m",
                "        exp_samples:",
                "          - labels: '{}'",
                f"            value: {value!r}",
            ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_quantiles_equal_prometheus_histogram_quantile(tmp_path: Path) -> None:
    assert shutil.which("promtool"), "promtool missing: install Debian package prometheus (make test does)"
    test_file = _promtool_test(tmp_path / "quantiles_test.yml")
    result = subprocess.run(["promtool", "test", "rules", test_file], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
