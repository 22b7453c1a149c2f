"""Two fixed ``/metrics`` pages of one process, ten seconds apart, in the format the OpenTelemetry
Prometheus exporter writes (labels sorted, ``otel_scope_*`` labels, ``error_type=""`` on the
successful series of a family that also has failures). Short bucket lists keep the numbers easy
to check by hand; ``tests/metrics/test_dashboard.py`` works them out in its comments.

Imported as ``from dashboard_metrics import ...`` (``tests/metrics/`` is on ``sys.path``).
"""

from __future__ import annotations

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
T1 = T0 + 10

_SCOPE = 'otel_scope_name="agentotel",otel_scope_schema_url="",otel_scope_version="0.1.0"'


def _histogram(name: str, labels: str, bounds: list[str], counts: list[int], total: float) -> str:
    lines = [
        f'{name}_bucket{{{labels},le="{le}",{_SCOPE}}} {count}.0'
        for le, count in zip([*bounds, "+Inf"], counts, strict=True)
    ]
    lines.append(f"{name}_count{{{labels},{_SCOPE}}} {counts[-1]}.0")
    lines.append(f"{name}_sum{{{labels},{_SCOPE}}} {total}")
    return "\n".join(lines)


LLM_BOUNDS = ["0.5", "1.0", "2.0", "4.0"]
TOOL_BOUNDS = ["0.125", "0.25", "0.5", "1.0"]
WORKFLOW_BOUNDS = ["1.0", "5.0", "30.0"]
GPT = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",gen_ai_response_model="gpt-4o-2024-08-06",server_address="api.openai.com",server_port="443"'  # noqa: E501
GPT_FAILED = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",gen_ai_response_model="",server_address="api.openai.com",server_port="443"'  # noqa: E501
CLAUDE = 'gen_ai_operation_name="chat",gen_ai_provider_name="anthropic",gen_ai_request_model="claude-haiku-4-5",gen_ai_response_model="claude-haiku-4-5-20251001",server_address="api.anthropic.com",server_port="443"'  # noqa: E501


def _tokens(model_labels: str, token_type: str, total: int) -> str:
    counts = [0, 0, 1, 1, 1]  # one call
    labels = f'{model_labels},gen_ai_token_type="{token_type}"'
    return _histogram("gen_ai_client_token_usage", labels, ["16", "256", "4096", "65536"], counts, total)


def _page(*sections: str) -> str:
    return "\n".join(sections) + "\n"


HEAD_LLM = (
    "# HELP gen_ai_client_operation_duration_seconds GenAI operation duration.\n"
    "# TYPE gen_ai_client_operation_duration_seconds histogram"
)
HEAD_TOKENS = (
    "# HELP gen_ai_client_token_usage Number of input and output tokens used.\n"
    "# TYPE gen_ai_client_token_usage histogram"
)
HEAD_COST = (
    "# HELP agentotel_llm_cost_usd_total Cost of LLM calls.\n# TYPE agentotel_llm_cost_usd_total counter"
)
HEAD_TOOLS = (
    "# HELP agentotel_tool_duration_seconds Duration of tool executions.\n"
    "# TYPE agentotel_tool_duration_seconds histogram"
)
HEAD_ACTIVE = (
    "# HELP agentotel_workflow_active Workflow runs, plans and agent rounds in progress.\n"
    "# TYPE agentotel_workflow_active gauge"
)
HEAD_WORKFLOWS = (
    "# HELP agentotel_workflow_duration_seconds Duration of workflow runs, plans and agent rounds.\n"
    "# TYPE agentotel_workflow_duration_seconds histogram"
)
HEAD_ERRORS = (
    "# HELP agentotel_telemetry_errors_total Errors raised inside agentotel's own code.\n"
    "# TYPE agentotel_telemetry_errors_total counter"
)
PROCESS = (
    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
    "# TYPE process_cpu_seconds_total counter\n"
    "process_cpu_seconds_total 0.55"
)
LLM = "gen_ai_client_operation_duration_seconds"
TOOL = "agentotel_tool_duration_seconds"
WORKFLOW = "agentotel_workflow_duration_seconds"
SEARCH = 'gen_ai_tool_name="search",gen_ai_tool_type="function"'
FETCH = 'gen_ai_tool_name="fetch_page",gen_ai_tool_type="function"'
RESEARCH = 'gen_ai_operation_name="invoke_workflow",gen_ai_workflow_name="research"'
PLANNER = 'gen_ai_agent_name="planner",gen_ai_operation_name="invoke_agent"'


def _cost(model_labels: str, token_type: str, usd: float) -> str:
    return f'agentotel_llm_cost_usd_total{{{model_labels},gen_ai_token_type="{token_type}",{_SCOPE}}} {usd}'


PAGE_0 = _page(
    PROCESS,
    HEAD_LLM,
    _histogram(LLM, f'error_type="",{GPT}', LLM_BOUNDS, [2, 6, 8, 8, 8], 7.0),
    _histogram(LLM, f'error_type="openai.RateLimitError",{GPT_FAILED}', LLM_BOUNDS, [1, 1, 1, 1, 1], 0.1),
    HEAD_TOKENS,
    _tokens(GPT, "input", 800),
    _tokens(GPT, "output", 200),
    HEAD_COST,
    _cost('gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"', "input", 0.002),
    _cost('gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"', "output", 0.002),
    HEAD_TOOLS,
    _histogram(TOOL, SEARCH, TOOL_BOUNDS, [16, 20, 20, 20, 20], 2.5),
    _histogram(TOOL, FETCH, TOOL_BOUNDS, [0, 2, 4, 4, 4], 1.2),
    HEAD_ACTIVE,
    f"agentotel_workflow_active{{{RESEARCH},{_SCOPE}}} 1.0",
    HEAD_WORKFLOWS,
    _histogram(WORKFLOW, RESEARCH, WORKFLOW_BOUNDS, [0, 2, 3, 3], 20.0),
)

PAGE_1 = _page(
    PROCESS,
    HEAD_LLM,
    _histogram(LLM, f'error_type="",{GPT}', LLM_BOUNDS, [4, 10, 12, 12, 12], 10.0),
    _histogram(LLM, f'error_type="openai.RateLimitError",{GPT_FAILED}', LLM_BOUNDS, [2, 2, 2, 2, 2], 0.2),
    _histogram(LLM, f'error_type="",{CLAUDE}', LLM_BOUNDS, [0, 2, 4, 4, 4], 5.0),
    HEAD_TOKENS,
    _tokens(GPT, "input", 1200),
    _tokens(GPT, "output", 300),
    _tokens(CLAUDE, "input", 300),
    _tokens(CLAUDE, "output", 100),
    HEAD_COST,
    _cost('gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"', "input", 0.003),
    _cost('gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o"', "output", 0.003),
    _cost('gen_ai_provider_name="anthropic",gen_ai_request_model="claude-haiku-4-5"', "input", 0.0003),
    _cost('gen_ai_provider_name="anthropic",gen_ai_request_model="claude-haiku-4-5"', "output", 0.0005),
    HEAD_TOOLS,
    _histogram(TOOL, f'error_type="",{SEARCH}', TOOL_BOUNDS, [16, 20, 24, 28, 28], 9.5),
    _histogram(TOOL, f'error_type="TimeoutError",{SEARCH}', TOOL_BOUNDS, [0, 0, 0, 4, 4], 3.6),
    _histogram(TOOL, f'error_type="",{FETCH}', TOOL_BOUNDS, [0, 2, 4, 4, 4], 1.2),
    HEAD_ACTIVE,
    f"agentotel_workflow_active{{{RESEARCH},{_SCOPE}}} 2.0",
    f"agentotel_workflow_active{{{PLANNER},{_SCOPE}}} 0.0",
    HEAD_WORKFLOWS,
    _histogram(WORKFLOW, f'error_type="",{RESEARCH}', WORKFLOW_BOUNDS, [0, 3, 4, 4], 25.0),
    _histogram(WORKFLOW, f'error_type="ValueError",{RESEARCH}', WORKFLOW_BOUNDS, [0, 1, 1, 1], 2.0),
    HEAD_ERRORS,
    f'agentotel_telemetry_errors_total{{agentotel_component="openai",error_type="KeyError",{_SCOPE}}} 1.0',
)
