"""Which call a forwarded request is, and the provider functions that read it.

The gateway records a call exactly as the SDK instrumentors do because it uses their pure
functions: the same request extractor, response extractor, content readers, tool-result reader
and stream accumulator, bound here to an :class:`~agentotel.instrumentation._operation.Operation`
per kind of call. What differs is the input: the gateway has the request's JSON body (the SDKs'
keyword arguments have the same shape for OpenAI and Anthropic; Gemini's body is mapped to the
``google-genai`` arguments by :func:`gemini_kwargs`) and the response's JSON, which
:func:`view` makes readable as the SDK objects are. No SDK is imported: the provider modules
used here are the pure ones.
"""

from __future__ import annotations

import base64
import functools
import re
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation.anthropic import content as anthropic_content
from agentotel.instrumentation.anthropic import extract as anthropic_extract
from agentotel.instrumentation.anthropic.stream import MessageStreamAccumulator
from agentotel.instrumentation.google_genai import content as gemini_content
from agentotel.instrumentation.google_genai import extract as gemini_extract
from agentotel.instrumentation.google_genai.stream import GenerateContentAccumulator
from agentotel.instrumentation.openai import content as openai_content
from agentotel.instrumentation.openai import extract as openai_extract
from agentotel.instrumentation.openai.stream import ChatStreamAccumulator, ResponsesStreamAccumulator

WIRES = ("openai", "anthropic", "gemini")
"""The wire formats the gateway reads; an upstream speaks one of them."""

View = Callable[[Any], Any]


_MISSING = object()


@functools.cache  # field names are the code's own: a bounded set, each computed once
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


class Fields:
    """A JSON object read as the SDKs' model objects are read: a field by its snake_case name (or
    the camelCase key the wire uses for it: Gemini's ``usageMetadata`` is ``usage_metadata``),
    ``None`` for a field the object lacks (as a model's unset field), objects inside wrapped when
    read."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        fields = self._fields
        value = fields.get(name, _MISSING)
        if value is _MISSING:
            value = fields.get(_camel(name)) if "_" in name else None
        return view(value)

    def __repr__(self) -> str:
        return f"Fields({self._fields!r})"


def embeddings_view(value: Any) -> Any:
    """An OpenAI embeddings response, its base64 vectors decoded to floats as the ``openai`` SDK
    decodes them for the app (it asks for base64 when the app names no format), so the dimension
    count is read as the SDK instrumentor reads it."""
    if type(value) is dict and type(value.get("data")) is list:
        data = []
        for item in value["data"]:
            if type(item) is dict and type(item.get("embedding")) is str:
                item = {**item, "embedding": array("f", base64.b64decode(item["embedding"])).tolist()}
            data.append(item)
        value = {**value, "data": data}
    return view(value)


def view(value: Any) -> Any:
    """``value`` (parsed JSON) with its objects readable as :class:`Fields`."""
    if type(value) is dict:
        return Fields(value)
    if type(value) is list:
        return [view(item) for item in value]
    return value


class WireClient:
    """What :meth:`Operation.start` reads of an SDK client, for one forwarded request: the
    upstream's server attributes and the request's credentials (``api_key``, ``auth_token``: the
    two :func:`~agentotel.instrumentation._operation.client_secrets` reads)."""

    __slots__ = ("api_key", "auth_token", "server")

    def __init__(
        self, server: tuple[tuple[str, Any], ...], api_key: str | None, auth_token: str | None
    ) -> None:
        self.server = server
        self.api_key = api_key
        self.auth_token = auth_token


def _itself(client: Any) -> Any:
    return client


# The gateway calls Operation.start with a WireClient as the "instance" and never hands an SDK
# object to Operation.result: no stream or raw types to recognise.
_GATEWAY = SdkTypes(
    stream=type(None),
    async_stream=type(None),
    raw=(),
    async_raw=(),
    server=attrgetter("server"),
    client=_itself,
)


@dataclass(frozen=True)
class CallKind:
    """One kind of call on one wire: its operation factory and how its JSON is read.

    ``kwargs``: (JSON body, model from the path) -> the SDK's keyword arguments; ``view``: a
    response (or stream event) JSON value -> what the provider's functions read."""

    name: str
    operation: Callable[[Telemetry, Boundary], Operation]
    kwargs: Callable[[Mapping[str, Any], str], Mapping[str, Any]]
    view: View


def _body(body: Mapping[str, Any], _model: str) -> Mapping[str, Any]:
    return body


def gemini_kwargs(body: Mapping[str, Any], model: str) -> Mapping[str, Any]:
    """A ``generateContent`` body as ``models.generate_content``'s arguments: ``contents``, and a
    ``config`` of ``generationConfig`` plus the system instruction and tools (camelCase keys,
    which the extractors read as the SDK's dicts)."""
    config: dict[str, Any] = dict(body.get("generationConfig") or {})
    for key in ("systemInstruction", "tools", "toolConfig", "safetySettings"):
        if key in body:
            config[key] = body[key]
    return {"model": model, "contents": body.get("contents"), "config": config}


def gemini_embed_kwargs(body: Mapping[str, Any], model: str) -> Mapping[str, Any]:
    """An ``embedContent`` / ``batchEmbedContents`` body as ``models.embed_content``'s arguments."""
    requests = body.get("requests")
    if isinstance(requests, list):
        contents = [r.get("content") for r in requests if isinstance(r, Mapping)]
        first = requests[0] if requests and isinstance(requests[0], Mapping) else {}
        dims = first.get("outputDimensionality")
    else:
        contents = [body.get("content")]
        dims = body.get("outputDimensionality")
    return {"model": model, "contents": contents, "config": {"outputDimensionality": dims} if dims else None}


def _op(
    request: Any, response: Any, content_in: Any, content_out: Any, accumulator: Any, tool_results: Any
) -> Callable[[Telemetry, Boundary], Operation]:
    def make(telemetry: Telemetry, boundary: Boundary) -> Operation:
        return Operation(
            telemetry,
            boundary,
            _GATEWAY,
            request=request,
            response=response,
            content_in=content_in,
            content_out=content_out,
            accumulator=accumulator,
            tool_results=tool_results,
        )

    return make


OPENAI_CHAT = CallKind(
    "chat",
    _op(
        openai_extract.chat_request_attributes,
        openai_extract.chat_response_attributes,
        openai_content.chat_request_content,
        openai_content.chat_output_messages,
        ChatStreamAccumulator,
        openai_content.chat_tool_results,
    ),
    _body,
    view,
)
OPENAI_RESPONSES = CallKind(
    "responses",
    _op(
        openai_extract.responses_request_attributes,
        openai_extract.responses_response_attributes,
        openai_content.responses_request_content,
        openai_content.responses_output_messages,
        ResponsesStreamAccumulator,
        openai_content.responses_tool_results,
    ),
    _body,
    view,
)
OPENAI_EMBEDDINGS = CallKind(
    "embeddings",
    _op(
        openai_extract.embeddings_request_attributes,
        openai_extract.embeddings_response_attributes,
        openai_content.embeddings_request_content,
        openai_content.no_output,
        None,
        None,
    ),
    _body,
    embeddings_view,
)
ANTHROPIC_MESSAGES = CallKind(
    "messages",
    _op(
        anthropic_extract.request_attributes,
        anthropic_extract.response_attributes,
        anthropic_content.request_content,
        anthropic_content.output_messages,
        MessageStreamAccumulator,
        anthropic_content.tool_results,
    ),
    _body,
    view,
)
GEMINI_GENERATE = CallKind(
    "generateContent",
    _op(
        gemini_extract.request_attributes,
        gemini_extract.response_attributes,
        gemini_content.request_content,
        gemini_content.output_messages,
        None,
        gemini_content.tool_results,
    ),
    gemini_kwargs,
    view,
)
GEMINI_STREAM = CallKind(
    "streamGenerateContent",
    _op(
        gemini_extract.stream_request_attributes,
        gemini_extract.response_attributes,
        gemini_content.request_content,
        gemini_content.output_messages,
        GenerateContentAccumulator,
        gemini_content.tool_results,
    ),
    gemini_kwargs,
    view,
)
GEMINI_EMBED = CallKind(
    "embedContent",
    _op(
        gemini_extract.embed_request_attributes,
        gemini_extract.embed_response_attributes,
        gemini_content.embed_request_content,
        gemini_content.no_output,
        None,
        None,
    ),
    gemini_embed_kwargs,
    view,
)

_OPENAI_PATHS = (
    (re.compile(r"(?:^|/)chat/completions$"), OPENAI_CHAT),
    (re.compile(r"(?:^|/)responses$"), OPENAI_RESPONSES),
    (re.compile(r"(?:^|/)embeddings$"), OPENAI_EMBEDDINGS),
)
_ANTHROPIC_PATHS = ((re.compile(r"(?:^|/)v1/messages$"), ANTHROPIC_MESSAGES),)
_GEMINI_PATH = re.compile(
    r"(?:^|/)models/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$"
)
_GEMINI_KINDS = {
    "generateContent": GEMINI_GENERATE,
    "streamGenerateContent": GEMINI_STREAM,
    "embedContent": GEMINI_EMBED,
    "batchEmbedContents": GEMINI_EMBED,
}


def classify(wire: str, method: str, path: str) -> tuple[CallKind, str] | None:
    """The kind of call a request is, and the model its path names (Gemini); None: a request the
    gateway forwards without an LLM span (a model list, a token count, a file upload ...)."""
    if method != "POST":
        return None
    if wire == "gemini":
        found = _GEMINI_PATH.search(path)
        return (_GEMINI_KINDS[found.group(2)], found.group(1)) if found else None
    for pattern, kind in _OPENAI_PATHS if wire == "openai" else _ANTHROPIC_PATHS:
        if pattern.search(path):
            return kind, ""
    return None
