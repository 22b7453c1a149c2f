"""Every span, attribute, metric, event and value name agentotel uses.

The GenAI names are re-exported from ``opentelemetry-semantic-conventions`` (the ``_incubating``
modules); the ``agentotel.*`` names are ours. No other module of ``agentotel`` spells a name as a
string literal: import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _g
from opentelemetry.semconv._incubating.attributes import jsonrpc_attributes as _j
from opentelemetry.semconv._incubating.attributes import mcp_attributes as _mcp
from opentelemetry.semconv._incubating.attributes import openai_attributes as _o
from opentelemetry.semconv._incubating.attributes import rpc_attributes as _r
from opentelemetry.semconv._incubating.attributes import server_attributes as _s
from opentelemetry.semconv._incubating.attributes import user_attributes as _u
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _m
from opentelemetry.semconv._incubating.metrics import mcp_metrics as _mm
from opentelemetry.semconv.attributes import error_attributes as _e
from opentelemetry.semconv.attributes import exception_attributes as _x
from opentelemetry.semconv.attributes import network_attributes as _n

# --- gen_ai.* attributes -------------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = _g.GEN_AI_OPERATION_NAME
GEN_AI_PROVIDER_NAME: Final = _g.GEN_AI_PROVIDER_NAME
GEN_AI_REQUEST_MODEL: Final = _g.GEN_AI_REQUEST_MODEL
GEN_AI_REQUEST_MAX_TOKENS: Final = _g.GEN_AI_REQUEST_MAX_TOKENS
GEN_AI_REQUEST_TEMPERATURE: Final = _g.GEN_AI_REQUEST_TEMPERATURE
GEN_AI_REQUEST_TOP_P: Final = _g.GEN_AI_REQUEST_TOP_P
GEN_AI_REQUEST_TOP_K: Final = _g.GEN_AI_REQUEST_TOP_K
GEN_AI_REQUEST_STOP_SEQUENCES: Final = _g.GEN_AI_REQUEST_STOP_SEQUENCES
GEN_AI_REQUEST_SEED: Final = _g.GEN_AI_REQUEST_SEED
GEN_AI_REQUEST_CHOICE_COUNT: Final = _g.GEN_AI_REQUEST_CHOICE_COUNT
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = _g.GEN_AI_REQUEST_FREQUENCY_PENALTY
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = _g.GEN_AI_REQUEST_PRESENCE_PENALTY
GEN_AI_REQUEST_STREAM: Final = _g.GEN_AI_REQUEST_STREAM
GEN_AI_REQUEST_ENCODING_FORMATS: Final = _g.GEN_AI_REQUEST_ENCODING_FORMATS
GEN_AI_OUTPUT_TYPE: Final = _g.GEN_AI_OUTPUT_TYPE
GEN_AI_RESPONSE_ID: Final = _g.GEN_AI_RESPONSE_ID
GEN_AI_RESPONSE_MODEL: Final = _g.GEN_AI_RESPONSE_MODEL
GEN_AI_RESPONSE_FINISH_REASONS: Final = _g.GEN_AI_RESPONSE_FINISH_REASONS
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = _g.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
GEN_AI_USAGE_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_INPUT_TOKENS
GEN_AI_USAGE_OUTPUT_TOKENS: Final = _g.GEN_AI_USAGE_OUTPUT_TOKENS
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = _g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = _g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = _g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
GEN_AI_SYSTEM_INSTRUCTIONS: Final = _g.GEN_AI_SYSTEM_INSTRUCTIONS
GEN_AI_INPUT_MESSAGES: Final = _g.GEN_AI_INPUT_MESSAGES
GEN_AI_OUTPUT_MESSAGES: Final = _g.GEN_AI_OUTPUT_MESSAGES
GEN_AI_TOOL_DEFINITIONS: Final = _g.GEN_AI_TOOL_DEFINITIONS
GEN_AI_TOKEN_TYPE: Final = _g.GEN_AI_TOKEN_TYPE
GEN_AI_CONVERSATION_ID: Final = _g.GEN_AI_CONVERSATION_ID
GEN_AI_AGENT_NAME: Final = _g.GEN_AI_AGENT_NAME
GEN_AI_AGENT_ID: Final = _g.GEN_AI_AGENT_ID
GEN_AI_TOOL_NAME: Final = _g.GEN_AI_TOOL_NAME
GEN_AI_TOOL_CALL_ID: Final = _g.GEN_AI_TOOL_CALL_ID
GEN_AI_TOOL_TYPE: Final = _g.GEN_AI_TOOL_TYPE
GEN_AI_TOOL_DESCRIPTION: Final = _g.GEN_AI_TOOL_DESCRIPTION
GEN_AI_TOOL_CALL_ARGUMENTS: Final = _g.GEN_AI_TOOL_CALL_ARGUMENTS
GEN_AI_TOOL_CALL_RESULT: Final = _g.GEN_AI_TOOL_CALL_RESULT
GEN_AI_AGENT_DESCRIPTION: Final = _g.GEN_AI_AGENT_DESCRIPTION
GEN_AI_WORKFLOW_NAME: Final = _g.GEN_AI_WORKFLOW_NAME
USER_ID: Final = _u.USER_ID

OPENAI_API_TYPE: Final = _o.OPENAI_API_TYPE
OPENAI_REQUEST_SERVICE_TIER: Final = _o.OPENAI_REQUEST_SERVICE_TIER
OPENAI_RESPONSE_SERVICE_TIER: Final = _o.OPENAI_RESPONSE_SERVICE_TIER
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = _o.OPENAI_RESPONSE_SYSTEM_FINGERPRINT

GROQ_USAGE_QUEUE_TIME: Final = "groq.usage.queue_time"
"""Seconds (a float, unit ``s``) the request waited in Groq's queue before processing: the
response's ``usage.queue_time`` (a stream's from ``x_groq.usage``)."""
GROQ_REQUEST_ID: Final = "groq.request.id"
"""Groq's id of the request (``x_groq.id``, ``req_...``), the one its support asks for; not the
completion's id (``gen_ai.response.id``)."""

COHERE_USAGE_SEARCH_UNITS: Final = "cohere.usage.search_units"
"""Cohere's billed search units of a call (``billed_units.search_units``: what a rerank is billed
by; one unit is a query with up to 100 documents)."""

SERVER_ADDRESS: Final = _s.SERVER_ADDRESS
SERVER_PORT: Final = _s.SERVER_PORT
ERROR_TYPE: Final = _e.ERROR_TYPE
EXCEPTION_TYPE: Final = _x.EXCEPTION_TYPE
EXCEPTION_MESSAGE: Final = _x.EXCEPTION_MESSAGE
EXCEPTION_STACKTRACE: Final = _x.EXCEPTION_STACKTRACE

# --- values ----------------------------------------------------------------------------------------
OP_CHAT: Final = "chat"
OP_EMBEDDINGS: Final = "embeddings"
OP_GENERATE_CONTENT: Final = "generate_content"
"""Gemini ``generateContent`` (the conventions' name for multimodal content generation)."""
OP_TEXT_COMPLETION: Final = "text_completion"
"""A completion-style call (prompt in, text out): Ollama's ``/api/generate``."""
OP_RERANK: Final = "rerank"
"""Cohere ``/v2/rerank`` (documents scored against a query): no convention value describes it, and
``embeddings`` would mix it into embeddings dashboards; the operation name is an open enum."""
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
# Agent-layer operations without a convention value: the span name's first word, as for the others.
OP_PLAN: Final = "plan"
OP_STEP: Final = "step"
OP_GUARDRAIL: Final = "guardrail"
OP_APPROVAL: Final = "approval"
OP_ASSEMBLE_CONTEXT: Final = "assemble_context"

TOOL_TYPE_FUNCTION: Final = "function"
TOOL_TYPE_EXTENSION: Final = "extension"
TOOL_TYPE_DATASTORE: Final = "datastore"

GUARD_ALLOWED: Final = "allowed"
GUARD_FLAGGED: Final = "flagged"
GUARD_BLOCKED: Final = "blocked"
APPROVAL_APPROVED: Final = "approved"
APPROVAL_DENIED: Final = "denied"
APPROVAL_TIMED_OUT: Final = "timed_out"
SESSION_COMPLETED: Final = "completed"
SESSION_FAILED: Final = "failed"
TOOL_RESULT_ERROR: Final = "tool_error"
"""``error.type`` of an inferred tool span whose result the app sent back marked as an error."""
OTHER_VALUE: Final = "_OTHER"
"""What the cardinality guard reports in place of a metric attribute value past its limit."""

PROVIDER_OPENAI: Final = "openai"
PROVIDER_ANTHROPIC: Final = "anthropic"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_GROQ: Final = "groq"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_X_AI: Final = "x_ai"
PROVIDER_MISTRAL: Final = "mistral_ai"
PROVIDER_GEMINI: Final = "gcp.gemini"
PROVIDER_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_PERPLEXITY: Final = "perplexity"
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
# Providers LiteLLM routes to (its names mapped to the conventions' in instrumentation/litellm).
PROVIDER_LITELLM_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_AZURE_AI_INFERENCE: Final = "azure.ai.inference"
PROVIDER_COHERE: Final = "cohere"
PROVIDER_IBM_WATSONX: Final = "ibm.watsonx.ai"
PROVIDER_OLLAMA: Final = "ollama"
"""Ollama (not yet in the conventions' ``gen_ai.provider.name`` registry: our value, lower case as
the registry's are)."""

TOKEN_INPUT: Final = "input"
TOKEN_OUTPUT: Final = "output"

OUTPUT_TEXT: Final = "text"
OUTPUT_JSON: Final = "json"

OPENAI_API_CHAT_COMPLETIONS: Final = "chat_completions"
OPENAI_API_RESPONSES: Final = "responses"

# --- metrics -------------------------------------------------------------------------------------
GEN_AI_CLIENT_TOKEN_USAGE: Final = _m.GEN_AI_CLIENT_TOKEN_USAGE
GEN_AI_CLIENT_OPERATION_DURATION: Final = _m.GEN_AI_CLIENT_OPERATION_DURATION
GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: Final = _m.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK: Final = _m.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK
TOOL_DURATION: Final = "agentotel.tool.duration"
WORKFLOW_DURATION: Final = "agentotel.workflow.duration"
WORKFLOW_ACTIVE: Final = "agentotel.workflow.active"
STEP_DURATION: Final = "agentotel.step.duration"
SESSION_COUNT: Final = "agentotel.session.count"
SESSION_ACTIVE: Final = "agentotel.session.active"
SESSION_MESSAGES: Final = "agentotel.session.messages"
CONTEXT_FRAGMENTS: Final = "agentotel.context.fragments"
CONTEXT_BUDGET_UTILIZATION: Final = "agentotel.context.budget.utilization"
CONTEXT_DURATION: Final = "agentotel.context.duration"
GUARD_DECISIONS: Final = "agentotel.guard.decisions"
APPROVAL_DECISIONS: Final = "agentotel.approval.decisions"
LLM_COST: Final = "agentotel.llm.cost.usd"
LLM_COST_UNPRICED: Final = "agentotel.llm.cost.unpriced"
TELEMETRY_ERRORS: Final = "agentotel.telemetry.errors"
TELEMETRY_DROPPED: Final = "agentotel.telemetry.dropped"

# Bucket boundaries given by the GenAI metric conventions.
TOKEN_USAGE_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
# Tools, steps and runs are often far shorter than an LLM call: start at 1 ms.
AGENT_DURATION_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
CONTEXT_FRAGMENT_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)
UTILIZATION_BUCKETS: Final = (0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0)
SESSION_MESSAGE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

# --- MCP (semantic-conventions-genai docs/gen-ai/mcp.md) -------------------------------------------
MCP_METHOD_NAME: Final = _mcp.MCP_METHOD_NAME
MCP_PROTOCOL_VERSION: Final = _mcp.MCP_PROTOCOL_VERSION
MCP_RESOURCE_URI: Final = _mcp.MCP_RESOURCE_URI
MCP_SESSION_ID: Final = _mcp.MCP_SESSION_ID
JSONRPC_REQUEST_ID: Final = _j.JSONRPC_REQUEST_ID
RPC_RESPONSE_STATUS_CODE: Final = _r.RPC_RESPONSE_STATUS_CODE
NETWORK_TRANSPORT: Final = _n.NETWORK_TRANSPORT
GEN_AI_PROMPT_NAME: Final = _g.GEN_AI_PROMPT_NAME
TRANSPORT_PIPE: Final = _n.NetworkTransportValues.PIPE.value
TRANSPORT_TCP: Final = _n.NetworkTransportValues.TCP.value
MCP_TOOLS_CALL: Final = "tools/call"
MCP_PROMPTS_GET: Final = "prompts/get"
MCP_INITIALIZE: Final = "initialize"
MCP_DISCOVER: Final = "server/discover"
MCP_RESOURCE_METHODS: Final = ("resources/read", "resources/subscribe", "resources/unsubscribe")
"""The request methods whose params carry the ``uri`` recorded as ``mcp.resource.uri``."""
MCP_CALLER_FAULT_CODES: Final = frozenset(("-32700", "-32600", "-32601", "-32602", "-32002"))
"""JSON-RPC codes a server answers a request it could not serve with: not errors of the server
span (model/mcp/common.yaml, ``mcp.server.status.attributes``); every code is one on the client."""
GEN_AI_PROMPT_VARIABLE: Final = "gen_ai.prompt.variable"
"""Prefix of ``gen_ai.prompt.variable.<argument>`` (a ``prompts/get`` argument; content)."""
MCP_CLIENT_OPERATION_DURATION: Final = _mm.MCP_CLIENT_OPERATION_DURATION
MCP_SERVER_OPERATION_DURATION: Final = _mm.MCP_SERVER_OPERATION_DURATION
MCP_CLIENT_SESSION_DURATION: Final = _mm.MCP_CLIENT_SESSION_DURATION
MCP_SERVER_SESSION_DURATION: Final = _mm.MCP_SERVER_SESSION_DURATION
MCP_DURATION_BUCKETS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
"""The ``ExplicitBucketBoundaries`` the MCP conventions give all four MCP histograms."""

# --- events --------------------------------------------------------------------------------------
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"
EVENT_EXCEPTION: Final = "exception"
"""The span event of a recorded exception (the name ``Span.record_exception`` uses)."""

# --- agentotel.* attributes ----------------------------------------------------------------------
AGENTOTEL_COMPONENT: Final = "agentotel.component"
AGENTOTEL_DROP_REASON: Final = "agentotel.drop.reason"
"""Why ``agentotel.telemetry.dropped`` counted something (``queue_full``, ``queue_full_timeout``,
``shutdown_timeout``)."""
DROP_QUEUE_FULL: Final = "queue_full"
DROP_QUEUE_FULL_TIMEOUT: Final = "queue_full_timeout"
"""The ``block`` policy waited ``AGENTOTEL_WRITER_BLOCK_TIMEOUT`` for room, or the writer was known stuck."""
DROP_SHUTDOWN_TIMEOUT: Final = "shutdown_timeout"
"""Still queued or failing when ``shutdown`` gave up after ``AGENTOTEL_WRITER_SHUTDOWN_TIMEOUT``."""
AGENTOTEL_STREAM_END: Final = "agentotel.stream.end"
"""How a stream span ended: ``exhausted``, ``closed``, ``abandoned`` or ``error``."""
AGENTOTEL_TOOL_CALL_NAMES: Final = "agentotel.response.tool_calls.names"
AGENTOTEL_TOOL_CALL_IDS: Final = "agentotel.response.tool_calls.ids"

AGENTOTEL_RUN_ID: Final = "agentotel.run.id"
"""The run (run store folder name) a span or log record belongs to."""
AGENTOTEL_AUDIT: Final = "agentotel.audit"
"""``true`` on a span the audit log must record (see ``agentotel.mark_for_audit``)."""
AGENTOTEL_TOOL_INFERRED: Final = "agentotel.tool.inferred"
"""``true`` on an ``execute_tool`` span inferred from an LLM request that carried the tool's result."""
AGENTOTEL_PLAN_STEP_COUNT: Final = "agentotel.plan.step_count"
AGENTOTEL_STEP_NAME: Final = "agentotel.step.name"
AGENTOTEL_STEP_TYPE: Final = "agentotel.step.type"
AGENTOTEL_STEP_DESCRIPTION: Final = "agentotel.step.description"
"""What a step is asked to do (a CrewAI task's description): content, recorded only with capture on."""
AGENTOTEL_GUARD_NAME: Final = "agentotel.guard.name"
AGENTOTEL_GUARD_OUTCOME: Final = "agentotel.guard.outcome"
AGENTOTEL_GUARD_REASON: Final = "agentotel.guard.reason"
AGENTOTEL_APPROVAL_ACTION: Final = "agentotel.approval.action"
AGENTOTEL_APPROVAL_OUTCOME: Final = "agentotel.approval.outcome"
AGENTOTEL_APPROVAL_APPROVER: Final = "agentotel.approval.approver"
AGENTOTEL_APPROVAL_REASON: Final = "agentotel.approval.reason"
AGENTOTEL_CONTEXT_FRAGMENT_COUNT: Final = "agentotel.context.fragment_count"
AGENTOTEL_CONTEXT_BUDGET_TOKENS: Final = "agentotel.context.budget_tokens"
AGENTOTEL_CONTEXT_USED_TOKENS: Final = "agentotel.context.used_tokens"
AGENTOTEL_SESSION_STATUS: Final = "agentotel.session.status"
AGENTOTEL_MCP_SERVER_NAME: Final = "agentotel.mcp.server.name"
AGENTOTEL_HANDOFF: Final = "agentotel.handoff"
"""Event on the ``invoke_agent`` span of an agent that handed the conversation to another agent."""
AGENTOTEL_HANDOFF_FROM_AGENT: Final = "agentotel.handoff.from_agent"
AGENTOTEL_HANDOFF_TO_AGENT: Final = "agentotel.handoff.to_agent"

STREAM_EXHAUSTED: Final = "exhausted"
STREAM_CLOSED: Final = "closed"
STREAM_ABANDONED: Final = "abandoned"
STREAM_ERROR: Final = "error"

# --- ollama.* attributes (ours: the conventions have none for Ollama) ---------------------------
# The server's own timings of one call, in seconds (Ollama reports nanoseconds; converted so they
# read like the conventions' durations): where the time of a local model went.
OLLAMA_TOTAL_DURATION: Final = "ollama.total_duration"
"""The server's whole time for the request (``total_duration``), seconds."""
OLLAMA_LOAD_DURATION: Final = "ollama.load_duration"
"""Time spent loading the model into memory (``load_duration``; near zero when already loaded), seconds."""
OLLAMA_PROMPT_EVAL_DURATION: Final = "ollama.prompt_eval_duration"
"""Time spent evaluating the prompt (``prompt_eval_duration``), seconds."""
OLLAMA_EVAL_DURATION: Final = "ollama.eval_duration"
"""Time spent generating the output tokens (``eval_duration``), seconds."""

# --- agentotel gateway (``agentotel gateway``: a forwarding LLM gateway; ours, no convention) -----------
GATEWAY_REQUESTS: Final = "agentotel.gateway.requests"
"""Counter: requests the gateway answered, by route, upstream and status class."""
GATEWAY_UPSTREAM_DURATION: Final = "agentotel.gateway.upstream.duration"
"""Histogram (s): from sending the request upstream to the last byte of its answer."""
GATEWAY_TIME_TO_FIRST_BYTE: Final = "agentotel.gateway.time_to_first_byte"
"""Histogram (s): from sending the request upstream to its status line and headers."""
GATEWAY_ACTIVE_REQUESTS: Final = "agentotel.gateway.active_requests"
"""UpDownCounter: requests being forwarded now."""
GATEWAY_REQUEST_BYTES: Final = "agentotel.gateway.request.bytes"
"""Counter (By): request body bytes received from clients."""
GATEWAY_RESPONSE_BYTES: Final = "agentotel.gateway.response.bytes"
"""Counter (By): response body bytes sent to clients."""
AGENTOTEL_GATEWAY_ROUTE: Final = "agentotel.gateway.route"
AGENTOTEL_GATEWAY_UPSTREAM: Final = "agentotel.gateway.upstream"
AGENTOTEL_GATEWAY_STATUS_CLASS: Final = "agentotel.gateway.status_class"
"""``2xx`` ... ``5xx``; ``none`` when no status was sent (the client left first)."""
AGENTOTEL_GATEWAY_TIMEOUT: Final = "agentotel.gateway.timeout"
AGENTOTEL_GATEWAY_RETRY: Final = "agentotel.gateway.retry"
"""The client said the request is a retry (``x-stainless-retry-count`` > 0)."""
AGENTOTEL_GATEWAY_UNPARSED: Final = "agentotel.gateway.unparsed"
"""The request (or response) body was not the JSON its route expects: forwarded untouched."""
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
EVENT_GATEWAY_RECEIVED: Final = "agentotel.gateway.received"
EVENT_GATEWAY_FIRST_BYTE: Final = "agentotel.gateway.upstream.first_byte"
EVENT_GATEWAY_COMPLETED: Final = "agentotel.gateway.completed"
EVENT_GATEWAY_FAILED: Final = "agentotel.gateway.failed"
GATEWAY_STATUS_NONE: Final = "none"

# --- log events ----------------------------------------------------------------------------------
EVENT_AUDIT: Final = "agentotel.audit"
"""The log event each audit record is also emitted as (when a LoggerProvider is configured)."""
EVENT_AUDIT_CHECKPOINT: Final = "agentotel.audit.checkpoint"
"""The log event each audit checkpoint (seq, hash, time, hmac: an anchor) is emitted as."""

# --- instrumentation scope -----------------------------------------------------------------------
SCOPE_NAME: Final = "agentotel"
SCOPE_DEMO: Final = "agentotel.demo"

# --- run store -----------------------------------------------------------------------------------
AGENTOTEL_RUN_PARENT: Final = "agentotel.run.parent"
"""On the root span of a forked run (``agentotel.fork_run``): the run id it was forked from."""
AGENTOTEL_RUN_OBJECTIVE: Final = "agentotel.run.objective"
"""On the root span of a run: the objective the app gave (``agentotel.fork_run(objective)``)."""
AGENTOTEL_USAGE_COST_USD: Final = "agentotel.usage.cost_usd"
"""Cost of an LLM call in US dollars, when the price is known; the run store sums it per run."""
AGENTOTEL_USAGE_INVALID: Final = "agentotel.usage.invalid"
"""On an LLM span: the usage attributes the response reported out of range (negative, not a whole
number, or above 2**63-1), left out of the span, the token metric and the cost."""
WORKFLOW_FORK: Final = "fork"
"""``gen_ai.workflow.name`` of the root span ``agentotel.fork_run`` starts."""

# --- the two convention modes (issue 16) ------------------------------------------------------------
# Default: the GenAI conventions of semantic-conventions v1.41.1 (the names above). With
# ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``: the latest GenAI conventions
# (semantic-conventions-genai, docs/gen-ai/non-normative/migration.md @32c328e). The names below
# exist in the latest conventions only; :class:`Conventions` holds every name that differs.
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
TOKEN_MODALITY_UNKNOWN: Final = "unknown"
"""The modality the usage counters report tokens under when the provider does not break usage
down by modality (gen-ai-token-metrics.md: "SHOULD report the tokens under the `unknown` modality")."""
GEN_AI_AGENT_VERSION: Final = _g.GEN_AI_AGENT_VERSION
GEN_AI_GUARDRAIL_COMPONENT_NAME: Final = "gen_ai.guardrail.component.name"
GEN_AI_GUARDRAIL_RESULT_TYPE: Final = "gen_ai.guardrail.result.type"
GEN_AI_GUARDRAIL_RESULT_VALUE: Final = "gen_ai.guardrail.result.value"
GEN_AI_GUARDRAIL_RESULT_REASON: Final = "gen_ai.guardrail.result.reason"
GUARDRAIL_RESULT_TYPE_OUTCOME: Final = "outcome"
"""``gen_ai.guardrail.result.type`` of an ``agentotel.guard``: its native result is its outcome
(``allowed``, ``flagged``, ``blocked``), recorded as it is (no verdict inferred)."""
OP_APPLY_GUARDRAIL: Final = "apply_guardrail"
AGENTOTEL_AGENT_ID: Final = "agentotel.agent.id"
"""``agentotel.agent(agent_id=...)`` in latest mode, where the in-process ``invoke_agent`` span
has no ``gen_ai.agent.id`` (#242: a stable hosted-agent identifier only)."""
EVENT_GUARDRAIL_RESULT: Final = "gen_ai.guardrail.result"
EVENT_OPERATION_EXCEPTION: Final = "gen_ai.client.operation.exception"
GEN_AI_CLIENT_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_read.input_tokens"
)
GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_write.input_tokens"
)
GEN_AI_CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.reasoning.output_tokens"
)
GEN_AI_CLIENT_INFERENCE_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
GEN_AI_CLIENT_INFERENCE_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
GEN_AI_CLIENT_EMBEDDINGS_DURATION: Final = "gen_ai.client.embeddings.duration"
GEN_AI_CLIENT_EMBEDDINGS_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.embeddings.operation.input_tokens"
GEN_AI_INVOKE_AGENT_DURATION: Final = "gen_ai.invoke_agent.duration"
GEN_AI_INVOKE_AGENT_INFERENCE_CALLS: Final = "gen_ai.invoke_agent.inference_calls"
GEN_AI_INVOKE_AGENT_TOOL_CALLS: Final = "gen_ai.invoke_agent.tool_calls"
GEN_AI_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
GEN_AI_INVOKE_WORKFLOW_DURATION: Final = "gen_ai.invoke_workflow.duration"
INVOKE_AGENT_DURATION_BUCKETS: Final = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)  # fmt: skip
INVOKE_AGENT_CALL_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128)
"""``gen_ai.invoke_agent.inference_calls`` / ``.tool_calls``."""
INVOKE_WORKFLOW_DURATION_BUCKETS: Final = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)


@dataclass(frozen=True)
class Conventions:
    """The names (and bucket lists) that differ between the two modes; None: not in this mode.

    The telemetry holder picks one instance, :data:`V1_41_1` or :data:`LATEST`, when it is built
    (``Telemetry.conventions``); nothing reads the mode per call. Names the same in both modes are
    the constants above.
    """

    latest: bool
    usage_cache_write: str
    """Span attribute of the input tokens written to the provider's cache."""
    op_guardrail: str
    """``gen_ai.operation.name`` (and span name's first word) of ``agentotel.guard``."""
    agent_id: str
    """Attribute ``agentotel.agent(agent_id=...)`` is recorded under on ``invoke_agent``."""
    inference_duration: str
    embeddings_duration: str
    time_to_first_chunk: str
    time_per_output_chunk: str
    token_usage: str | None
    """v1.41.1: the one token histogram (with ``gen_ai.token.type``), inference and embeddings."""
    usage_input_tokens: str | None
    usage_output_tokens: str | None
    usage_cache_read_input_tokens: str | None
    usage_cache_write_input_tokens: str | None
    usage_reasoning_output_tokens: str | None
    operation_input_tokens: str | None
    operation_output_tokens: str | None
    embeddings_input_tokens: str | None
    tool_duration: str
    tool_duration_buckets: tuple[float, ...]
    workflow_duration: str
    workflow_duration_buckets: tuple[float, ...]
    agent_duration: str
    agent_duration_buckets: tuple[float, ...]
    plan_duration: str
    """No convention metric for plans in either mode: ``agentotel.workflow.duration``."""
    agent_inference_calls: str | None
    agent_tool_calls: str | None


V1_41_1: Final = Conventions(
    latest=False,
    usage_cache_write=GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    op_guardrail=OP_GUARDRAIL,
    agent_id=GEN_AI_AGENT_ID,
    inference_duration=GEN_AI_CLIENT_OPERATION_DURATION,
    embeddings_duration=GEN_AI_CLIENT_OPERATION_DURATION,
    time_to_first_chunk=GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
    time_per_output_chunk=GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
    token_usage=GEN_AI_CLIENT_TOKEN_USAGE,
    usage_input_tokens=None,
    usage_output_tokens=None,
    usage_cache_read_input_tokens=None,
    usage_cache_write_input_tokens=None,
    usage_reasoning_output_tokens=None,
    operation_input_tokens=None,
    operation_output_tokens=None,
    embeddings_input_tokens=None,
    tool_duration=TOOL_DURATION,
    tool_duration_buckets=AGENT_DURATION_BUCKETS,
    workflow_duration=WORKFLOW_DURATION,
    workflow_duration_buckets=AGENT_DURATION_BUCKETS,
    agent_duration=WORKFLOW_DURATION,
    agent_duration_buckets=AGENT_DURATION_BUCKETS,
    plan_duration=WORKFLOW_DURATION,
    agent_inference_calls=None,
    agent_tool_calls=None,
)
"""semantic-conventions v1.41.1 (the default)."""

LATEST: Final = Conventions(
    latest=True,
    usage_cache_write=GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    op_guardrail=OP_APPLY_GUARDRAIL,
    agent_id=AGENTOTEL_AGENT_ID,
    inference_duration=GEN_AI_CLIENT_INFERENCE_DURATION,
    embeddings_duration=GEN_AI_CLIENT_EMBEDDINGS_DURATION,
    time_to_first_chunk=GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
    time_per_output_chunk=GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
    token_usage=None,
    usage_input_tokens=GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
    usage_output_tokens=GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
    usage_cache_read_input_tokens=GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS,
    usage_cache_write_input_tokens=GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS,
    usage_reasoning_output_tokens=GEN_AI_CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS,
    operation_input_tokens=GEN_AI_CLIENT_INFERENCE_OPERATION_INPUT_TOKENS,
    operation_output_tokens=GEN_AI_CLIENT_INFERENCE_OPERATION_OUTPUT_TOKENS,
    embeddings_input_tokens=GEN_AI_CLIENT_EMBEDDINGS_OPERATION_INPUT_TOKENS,
    tool_duration=GEN_AI_EXECUTE_TOOL_DURATION,
    tool_duration_buckets=DURATION_BUCKETS,
    workflow_duration=GEN_AI_INVOKE_WORKFLOW_DURATION,
    workflow_duration_buckets=INVOKE_WORKFLOW_DURATION_BUCKETS,
    agent_duration=GEN_AI_INVOKE_AGENT_DURATION,
    agent_duration_buckets=INVOKE_AGENT_DURATION_BUCKETS,
    plan_duration=WORKFLOW_DURATION,
    agent_inference_calls=GEN_AI_INVOKE_AGENT_INFERENCE_CALLS,
    agent_tool_calls=GEN_AI_INVOKE_AGENT_TOOL_CALLS,
)
"""The latest GenAI conventions (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``)."""


def conventions(latest: bool) -> Conventions:
    """:data:`LATEST` or :data:`V1_41_1`."""
    return LATEST if latest else V1_41_1
