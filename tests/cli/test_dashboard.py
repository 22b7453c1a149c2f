"""The dashboard from fixed ``/metrics`` pages: parsing, rates, reliability scores and the rendered
text, line by line.

``PAGE_0`` and ``PAGE_1`` (``dashboard_metrics``) are one process ten seconds apart. Worked out by
hand from their buckets (quantile = lower + (upper - lower) * (rank - below) / in bucket):

* gpt-4o: 12 ok + 2 failed calls (9 ten seconds earlier: 0.5 req/s); buckets le 0.5/1/2: 6/12/14.
  p50: rank 7 in (0.5, 1] -> 0.5 + 0.5 * 1/6 = 583.3 ms; p95: rank 13.3 in (1, 2] -> 1.65 s.
  Tokens 1500 (1000 before: 50/s); cost 0.003 + 0.003.
* claude-haiku-4-5: 4 calls, all new (0.4 req/s); le 1/2: 2/4. p50 1.00 s, p95 1 + 1.8/2 = 1.90 s.
* search: 28 ok + 4 TimeoutError (20 before: 1.2 calls/s); le 0.125/0.25/0.5/1: 16/20/24/32.
  p50 125 ms, p95: rank 30.4 -> 0.5 + 0.5 * 6.4/8 = 900 ms, p99 980 ms. The 12 recent calls
  (0/0/4/12) have p95 0.5 + 0.5 * 7.4/8 = 962.5 ms: speed 0.9 / 0.9625, score (4 * 0.875 + speed) / 5.
* fetch_page: 4 calls, none recent: speed 1, score 1.
* research: 5 runs, 1 failed; le 1/5/30: 0/4/5: p50 1 + 4 * 2.5/4 = 3.50 s, p95 5 + 25 * 0.75 = 23.75 s.
"""

from __future__ import annotations

import math

import pytest
from dashboard_metrics import PAGE_0, PAGE_1, T0, T1

from agentotel import semconv
from agentotel.cli import _dashboard as dashboard
from agentotel.cli._board import (
    ErrorRow,
    Targets,
    board,
    error_totals,
    model_rows,
    new_errors,
    reliability,
    speed_score,
    tool_rows,
)
from agentotel.cli._scrape import Histogram, ScrapeError, Snapshot, increase, parse, prom_name
from agentotel.cli._sources import SourceError
from agentotel.cli._top import Monitor

URL = "http://127.0.0.1:9464/metrics"
INF = math.inf


@pytest.fixture
def before() -> Snapshot:
    return parse(PAGE_0, T0)


@pytest.fixture
def now() -> Snapshot:
    return parse(PAGE_1, T1)


def lines(text: str) -> list[str]:
    return text.splitlines()


# --- names and parsing ----------------------------------------------------------------------------
def test_prometheus_names_follow_the_opentelemetry_exporter() -> None:
    assert prom_name(semconv.TOOL_DURATION, "s") == "agentotel_tool_duration_seconds"
    assert (
        prom_name(semconv.GEN_AI_CLIENT_OPERATION_DURATION, "s") == "gen_ai_client_operation_duration_seconds"
    )
    assert prom_name(semconv.GEN_AI_CLIENT_TOKEN_USAGE, "{token}") == "gen_ai_client_token_usage"
    assert prom_name(semconv.LLM_COST, "{USD}") == "agentotel_llm_cost_usd"
    assert prom_name(semconv.WORKFLOW_ACTIVE, "{run}") == "agentotel_workflow_active"
    assert prom_name(semconv.CONTEXT_BUDGET_UTILIZATION, "1") == "agentotel_context_budget_utilization"


def test_parse_adds_up_series_by_what_the_dashboard_groups_by(now: Snapshot) -> None:
    assert now.time == T1
    assert now.tokens == {
        ("openai", "gpt-4o", "input"): 1200.0,
        ("openai", "gpt-4o", "output"): 300.0,
        ("anthropic", "claude-haiku-4-5", "input"): 300.0,
        ("anthropic", "claude-haiku-4-5", "output"): 100.0,
    }
    assert now.cost == {("openai", "gpt-4o"): 0.006, ("anthropic", "claude-haiku-4-5"): 0.0003 + 0.0005}
    assert set(now.llm) == {
        ("openai", "gpt-4o", ""),
        ("openai", "gpt-4o", "openai.RateLimitError"),
        ("anthropic", "claude-haiku-4-5", ""),
    }
    assert now.tools[("search", "TimeoutError")] == Histogram(
        ((0.125, 0.0), (0.25, 0.0), (0.5, 0.0), (1.0, 4.0), (INF, 4.0)), 3.6
    )
    assert now.tools[("search", "")].count == 28.0
    assert now.active == {("invoke_workflow", "research"): 2.0, ("invoke_agent", "planner"): 0.0}
    assert now.workflows[("invoke_workflow", "research", "ValueError")].count == 1.0
    assert now.telemetry_errors == {("openai", "KeyError"): 1.0}


def test_a_success_series_without_an_error_type_label_counts_as_success(before: Snapshot) -> None:
    assert set(before.tools) == {("search", ""), ("fetch_page", "")}


def test_a_page_that_is_not_prometheus_text_is_a_scrape_error() -> None:
    with pytest.raises(ScrapeError, match="not a Prometheus text exposition"):
        parse("<html>\n<body>hello</body>\n</html>\n", T0)


def test_a_page_without_our_metrics_is_an_empty_snapshot() -> None:
    assert parse("# TYPE up gauge\nup 1\n", T0) == Snapshot(time=T0)


# --- rates ----------------------------------------------------------------------------------------
def test_rates_are_the_increase_between_two_scrapes_over_the_seconds_between(
    now: Snapshot, before: Snapshot
) -> None:
    gpt, claude = model_rows(now, before)
    assert (gpt.model, gpt.requests, gpt.errors, gpt.requests_per_s, gpt.tokens_per_s) == (
        "gpt-4o", 14.0, 2.0, 0.5, 50.0
    )  # fmt: skip
    assert (claude.model, claude.requests, claude.requests_per_s, claude.tokens_per_s) == (
        "claude-haiku-4-5", 4.0, 0.4, 40.0
    )  # fmt: skip
    assert [t.calls_per_s for t in tool_rows(now, before)] == [1.2, 0.0]


def test_one_scrape_has_no_rates(now: Snapshot) -> None:
    assert {r.requests_per_s for r in model_rows(now)} == {None}
    assert {r.tokens_per_s for r in model_rows(now)} == {None}
    assert {r.calls_per_s for r in tool_rows(now)} == {None}


def test_a_counter_that_went_down_restarted_from_zero() -> None:
    assert increase(10.0, 4.0) == 6.0
    assert increase(3.0, 5.0) == 3.0
    assert increase(3.0, None) == 3.0


def test_a_histogram_since_an_earlier_one_and_after_a_restart() -> None:
    early = Histogram(((1.0, 2.0), (INF, 3.0)), 4.0)
    late = Histogram(((1.0, 5.0), (INF, 7.0)), 9.0)
    assert late.since(early) == Histogram(((1.0, 3.0), (INF, 4.0)), 5.0)
    restarted = Histogram(((1.0, 1.0), (INF, 1.0)), 0.5)
    assert restarted.since(early) is restarted


def test_model_latency_quantiles_come_from_the_buckets_of_all_calls(now: Snapshot) -> None:
    gpt, claude = model_rows(now)
    assert gpt.p50 == 0.5 + 0.5 * ((7 - 6) / 6)
    assert gpt.p95 == 1.0 + 1.0 * ((0.95 * 14 - 12) / 2)
    assert (claude.p50, claude.p95) == (1.0, 1.0 + 1.0 * ((0.95 * 4 - 2) / 2))


# --- reliability ----------------------------------------------------------------------------------
TOOL_BOUNDS = (0.25, 0.5, 1.0, 2.0)


def _tool(ok: list[float], failed: list[float]) -> Snapshot:
    tools = {("search", ""): Histogram.of(ok, TOOL_BOUNDS)}
    if failed:
        tools[("search", "TimeoutError")] = Histogram.of(failed, TOOL_BOUNDS)
    return Snapshot(time=T1, tools=tools)


# 20 calls, 15 ok: 19 take <= 0.5 s, one 0.8 s. p95 = rank 19 of 19 in (0.25, 0.5] = 0.5 s.
FIFTEEN_OK = [0.3] * 14 + [0.8]
FIVE_FAILED = [0.4] * 5


def test_score_formula() -> None:
    assert reliability(1.0, 1.0) == 1.0
    assert reliability(0.75, 0.5) == 0.7
    assert reliability(0.5, 1.0) == 0.6
    assert reliability(0.0, 0.0) == 0.0


def test_speed_is_the_target_over_the_observed_p95_capped_at_one() -> None:
    assert speed_score(0.25, 0.5) == 0.5
    assert speed_score(1.0, 0.5) == 1.0
    assert speed_score(0.5, None) == 1.0
    assert speed_score(None, 0.5) == 1.0


def test_a_tool_slower_than_its_own_target_loses_speed() -> None:
    [row] = tool_rows(_tool(FIFTEEN_OK, FIVE_FAILED), targets=Targets(per_tool={"search": 0.25}))
    assert (row.calls, row.failures, row.success_rate) == (20.0, 5.0, 0.75)
    assert (row.target_p95, row.observed_p95, row.speed) == (0.25, 0.5, 0.5)
    assert row.reliability == 0.7  # 0.8 * 0.75 + 0.2 * 0.5


def test_a_tool_within_the_default_target_has_full_speed() -> None:
    [row] = tool_rows(_tool(FIFTEEN_OK, FIVE_FAILED), targets=Targets(default=1.0))
    assert (row.target_p95, row.speed, row.reliability) == (1.0, 1.0, 0.8)


def test_without_a_target_one_snapshot_compares_a_tool_with_itself() -> None:
    [row] = tool_rows(_tool(FIFTEEN_OK, FIVE_FAILED))
    assert (row.target_p95, row.observed_p95, row.speed, row.reliability) == (0.5, 0.5, 1.0, 0.8)


def test_without_a_target_a_tool_slower_lately_than_over_its_history_loses_speed() -> None:
    # 20 calls of 0.3 s, then 20 more: 19 of 0.8 s and one of 1.5 s. Whole history, le 0.5/1/2:
    # 20/39/40, p95 = rank 38, the 18th of 19 in (0.5, 1]; the recent 20 (le 0.5/1/2: 0/19/20):
    # rank 19, the last of 19 in (0.5, 1] = 1.0 s.
    early = _tool([0.3] * 20, [])
    late = _tool([0.3] * 20 + [0.8] * 19 + [1.5], [])
    late.time = T1 + 10
    [row] = tool_rows(late, early)
    assert row.target_p95 == 0.5 + 0.5 * ((38 - 20) / 19)
    assert row.observed_p95 == 1.0
    assert row.speed == row.target_p95 / 1.0
    assert row.reliability == (4 * 1.0 + row.speed) / 5


def test_the_fixed_pages_scores(now: Snapshot, before: Snapshot) -> None:
    search, fetch = tool_rows(now, before)
    assert (search.name, search.calls, search.failures, search.success_rate) == ("search", 32.0, 4.0, 0.875)
    assert (search.p50, search.p95, search.p99) == (
        0.125,
        0.5 + 0.5 * ((0.95 * 32 - 24) / 8),
        0.5 + 0.5 * ((0.99 * 32 - 24) / 8),
    )
    assert search.target_p95 == search.p95
    assert search.observed_p95 == 0.5 + 0.5 * ((0.95 * 12 - 4) / 8)
    assert search.speed == search.p95 / search.observed_p95
    assert search.reliability == (4 * 0.875 + search.speed) / 5
    assert (fetch.name, fetch.success_rate, fetch.speed, fetch.reliability) == ("fetch_page", 1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2"], Targets(2.0, {})),
        (["search=0.25", "1.5", "fetch=3"], Targets(1.5, {"search": 0.25, "fetch": 3.0})),
        (["mcp:tool=name=0.5"], Targets(None, {"mcp:tool=name": 0.5})),
    ],
)
def test_p95_targets(values: list[str], expected: Targets) -> None:
    assert Targets.parse(values) == expected


@pytest.mark.parametrize("value", ["fast", "search=", "=1", "search=0", "-1"])
def test_a_bad_p95_target_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=f"bad --p95-target '{value}'"):
        Targets.parse([value])


# --- errors ---------------------------------------------------------------------------------------
def test_error_totals_largest_first(now: Snapshot) -> None:
    assert error_totals(now) == [
        ErrorRow("tool", "search", "TimeoutError", 4.0),
        ErrorRow("llm", "gpt-4o", "openai.RateLimitError", 2.0),
        ErrorRow("agentotel", "openai", "KeyError", 1.0),
        ErrorRow("workflow", "research", "ValueError", 1.0),
    ]


def test_new_errors_are_those_counted_between_two_scrapes(now: Snapshot, before: Snapshot) -> None:
    assert new_errors(now, before) == [
        ErrorRow("tool", "search", "TimeoutError", 4.0, at=T1),
        ErrorRow("agentotel", "openai", "KeyError", 1.0, at=T1),
        ErrorRow("llm", "gpt-4o", "openai.RateLimitError", 1.0, at=T1),
        ErrorRow("workflow", "research", "ValueError", 1.0, at=T1),
    ]
    assert new_errors(now, now) == []


# --- rendering ------------------------------------------------------------------------------------
def test_the_dashboard_of_two_scrapes_line_by_line(now: Snapshot, before: Snapshot) -> None:
    frame = board(now, before, source=URL, errors=new_errors(now, before))
    assert lines(dashboard.render_text(dashboard.render(frame), width=120)) == [
        "agentotel top  http://127.0.0.1:9464/metrics  08:00:10 UTC  rates over 10.0 s",
        "requests/s 0.90  tokens/s 90.00  cost $0.006800  active workflows 2",
        "",
        "models",
        "provider   model             requests  req/s  errors  tokens in/out  tok/s       cost       p50     p95",  # noqa: E501
        "───────────────────────────────────────────────────────────────────────────────────────────────────────",
        "openai     gpt-4o                  14   0.50       2       1200/300  50.00  $0.006000  583.3 ms  1.65 s",  # noqa: E501
        "anthropic  claude-haiku-4-5         4   0.40       0        300/100  40.00  $0.000800    1.00 s  1.90 s",  # noqa: E501
        "",
        "tools",
        "tool        calls  calls/s  success       p50       p95       p99  target p95  speed  score",
        "───────────────────────────────────────────────────────────────────────────────────────────",
        "search         32     1.20    87.5%  125.0 ms  900.0 ms  980.0 ms    900.0 ms   0.94   0.89",
        "fetch_page      4     0.00   100.0%  250.0 ms  475.0 ms  495.0 ms    475.0 ms   1.00   1.00",
        "",
        "workflows",
        "operation        name      active  runs  failed     p50      p95",
        "────────────────────────────────────────────────────────────────",
        "invoke_workflow  research       2     5       1  3.50 s  23.75 s",
        "invoke_agent     planner        0     0       0       -        -",
        "",
        "recent errors",
        "when      source     name      error                  count",
        "───────────────────────────────────────────────────────────",
        "08:00:10  tool       search    TimeoutError               4",
        "08:00:10  agentotel  openai    KeyError                   1",
        "08:00:10  llm        gpt-4o    openai.RateLimitError      1",
        "08:00:10  workflow   research  ValueError                 1",
    ]  # fmt: skip


def test_one_scrape_shows_totals_and_no_rates(before: Snapshot) -> None:
    text = dashboard.render_text(dashboard.render(board(before, source=URL)), width=120)
    assert lines(text)[:2] == [
        "agentotel top  http://127.0.0.1:9464/metrics  08:00:00 UTC  rates need two reads",
        "requests/s -  tokens/s -  cost $0.004000  active workflows 1",
    ]
    gpt = "openai    gpt-4o         9      -       1        800/200      -  $0.004000  687.5 ms  1.77 s"
    assert gpt in lines(text)
    assert lines(text)[-3:] == [
        "when         source  name    error                  count",
        "─────────────────────────────────────────────────────────",
        "since start  llm     gpt-4o  openai.RateLimitError      1",
    ]


def test_an_empty_board() -> None:
    text = dashboard.render_text(dashboard.render(board(Snapshot(time=T0), source=URL)), width=100)
    assert lines(text) == [
        "agentotel top  http://127.0.0.1:9464/metrics  08:00:00 UTC  rates need two reads",
        "requests/s -  tokens/s -  cost -  active workflows 0",
        "",
        "models: no LLM calls yet",
        "",
        "tools: no tool calls yet",
        "",
        "workflows: none yet",
        "",
        "errors: none",
    ]


def test_the_tool_table_shows_the_most_called_first_up_to_its_limit(now: Snapshot) -> None:
    text = dashboard.render_text(dashboard.tool_table(tool_rows(now), limit=1), width=120)
    assert [line.split()[0] for line in lines(text)[3:]] == ["search"]


# --- the live loop's memory -----------------------------------------------------------------------
class Pages:
    """A source answering the given snapshots (or errors) in turn."""

    label = URL

    def __init__(self, *answers: Snapshot | SourceError) -> None:
        self.answers = list(answers)

    def snapshot(self) -> Snapshot:
        answer = self.answers.pop(0)
        if isinstance(answer, SourceError):
            raise answer
        return answer


def test_the_monitor_keeps_the_window_and_the_latest_errors(now: Snapshot, before: Snapshot) -> None:
    failure = SourceError(f"cannot scrape {URL}: [Errno 111] Connection refused")
    monitor = Monitor(Pages(before, now, failure), Targets())
    first = monitor.tick()
    assert (first.window_s, first.errors) == (None, [ErrorRow("llm", "gpt-4o", "openai.RateLimitError", 1.0)])
    second = monitor.tick()
    assert second.window_s == 10.0
    assert second.errors == [
        *new_errors(now, before),
        ErrorRow("llm", "gpt-4o", "openai.RateLimitError", 1.0),
    ]
    third = monitor.tick()
    assert third.status == f"cannot scrape {URL}: [Errno 111] Connection refused (retrying)"
    assert (third.time, third.models, third.errors) == (second.time, second.models, second.errors)
    assert lines(dashboard.render_text(dashboard.header(third)))[2] == third.status


def test_the_monitor_rates_cover_the_window(before: Snapshot) -> None:
    snaps = [Snapshot(time=T0 + i) for i in range(5)]
    monitor = Monitor(Pages(*snaps), Targets(), window=2.0)
    frames = [monitor.tick() for _ in snaps]
    assert [f.window_s for f in frames] == [None, 1.0, 2.0, 2.0, 2.0]


def test_a_source_unreadable_from_the_start_shows_an_empty_board_with_the_status() -> None:
    monitor = Monitor(Pages(SourceError("cannot scrape x: timed out")), Targets())
    frame = monitor.tick(clock=lambda: T0)
    assert (frame.time, frame.models, frame.status) == (T0, [], "cannot scrape x: timed out (retrying)")


def test_the_monitor_keeps_the_largest_counts_found_at_the_first_read(now: Snapshot) -> None:
    monitor = Monitor(Pages(now), Targets(), max_errors=2)
    assert monitor.tick().errors == error_totals(now)[:2]
