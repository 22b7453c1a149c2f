"""Quantiles of a histogram from its cumulative bucket counts: the Prometheus ``histogram_quantile``.

A Prometheus histogram keeps, for each upper bound ``le``, how many observations were ``<= le``
(cumulative counts, the last bound ``+Inf``). The quantile ``q`` is estimated the way PromQL's
``histogram_quantile(q, ...)`` does it:

1. ``rank = q * total`` (``total`` = the ``+Inf`` bucket's count);
2. the bucket is the first one whose cumulative count reaches ``rank`` (and holds observations);
3. observations are assumed spread evenly inside it, so the answer interpolates linearly between the
   bucket's lower bound (the previous ``le``, or 0 for the first bucket) and its upper bound::

       lower + (upper - lower) * ((rank - count_below) / count_in_bucket)

4. a rank in the ``+Inf`` bucket answers the highest finite bound (nothing more is known);
   a first bucket with a bound <= 0 answers that bound (no lower bound to interpolate from).

Example: observations 0.05, 0.2, 0.3, 0.7 in buckets ``le`` 0.1, 0.5, 1, +Inf are the cumulative
counts 1, 3, 4, 4; the median's rank is 2, in bucket (0.1, 0.5] which holds 2 observations, 1 of
them below the rank: ``0.1 + 0.4 * (2 - 1) / 2 = 0.3``.

Differences from PromQL, where it answers NaN: no observations (or no ``+Inf`` bucket) gives None;
``q = 0`` gives the lower bound of the first non-empty bucket. Counts that decrease with ``le``
(a torn scrape) are raised to the running maximum, as PromQL does. ``q`` outside [0, 1] is a
ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Bucket = tuple[float, float]
"""``(upper bound le, cumulative count of observations <= le)``."""


def normalize(buckets: Iterable[Bucket]) -> list[Bucket]:
    """Buckets sorted by bound, equal bounds merged, counts made non-decreasing."""
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    result: list[Bucket] = []
    highest = 0.0
    for bound in sorted(merged):
        highest = max(highest, merged[bound])
        result.append((bound, highest))
    return result


def histogram_quantile(q: float, buckets: Iterable[Bucket]) -> float | None:
    """The ``q`` quantile (0 <= q <= 1) of a histogram given as cumulative buckets, or None when
    it has no observations or no ``+Inf`` bucket. See the module docstring for the method."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be between 0 and 1, not {q}")
    ordered = normalize(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    total = ordered[-1][1]
    if total <= 0:
        return None
    rank = q * total
    index = next(i for i, (_, count) in enumerate(ordered) if count >= rank and count > 0)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper, count = ordered[index]
    if index == 0 and upper <= 0:
        return upper
    lower, below = ordered[index - 1] if index > 0 else (0.0, 0.0)
    return lower + (upper - lower) * ((rank - below) / (count - below))  # PromQL's order of operations


def cumulative(observations: Iterable[float], bounds: Iterable[float]) -> list[Bucket]:
    """The cumulative buckets (``+Inf`` last) that ``observations`` fill with upper ``bounds``,
    counting a value equal to a bound in that bound's bucket, as OpenTelemetry and Prometheus do."""
    values = sorted(observations)
    edges = sorted(set(bounds))
    result: list[Bucket] = []
    seen = 0
    for edge in edges:
        while seen < len(values) and values[seen] <= edge:
            seen += 1
        result.append((float(edge), float(seen)))
    result.append((math.inf, float(len(values))))
    return result
