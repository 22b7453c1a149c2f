"""One instrumented SDK operation: start (request -> span) and result (response -> attributes).

A provider describes an operation with pure functions (request attributes, response attributes,
content in and out, tool results in a request, a stream accumulator) plus its SDK's stream and
raw-response types; this class turns that into the ``wrapt`` wrappers for the sync and the async
method, so every provider shares one lifecycle and one safety boundary: spans, metrics, streams,
errors, content capture, cost and inferred tool spans are done here and below, never in a provider.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from agentotel import semconv
from agentotel._content import content_attributes
from agentotel._context import current
from agentotel._lifecycle import LLM_CALL_KEY, Attributes
from agentotel._redact import remember
from agentotel._safe import Boundary, async_wrapper, sync_wrapper
from agentotel._telemetry import Telemetry
from agentotel.instrumentation import _deferred
from agentotel.instrumentation._accumulator import Outcome, StreamAccumulator
from agentotel.instrumentation._inferred import infer_tool_spans
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._raw import AsyncRawResponseProxy, RawResponseProxy
from agentotel.instrumentation._streams import AsyncStreamProxy, SyncStreamProxy
from agentotel.metrics.inference import request_attributes

RequestFn = Callable[[Mapping[str, Any]], Attributes]
ResponseFn = Callable[[Any], Outcome]
ContentInFn = Callable[[Mapping[str, Any]], dict[str, Any]]
ContentOutFn = Callable[[Any], Any]
AccumulatorFn = Callable[[bool], StreamAccumulator]
ServerFn = Callable[[Any], tuple[tuple[str, Any], ...]]
ToolResultsFn = Callable[[Mapping[str, Any]], list[tuple[str, bool]]]


def client_secrets(client: Any) -> tuple[str, ...]:
    """The client's credentials, to be redacted from everything recorded."""
    found: list[str] = []
    for name in ("api_key", "auth_token"):
        value = getattr(client, name, None)
        if isinstance(value, str) and value:
            found.append(value)
    return tuple(found)


@dataclass(frozen=True)
class SdkTypes:
    """What the result handler must recognise in one SDK, and how to read a client's server."""

    stream: type
    async_stream: type
    raw: tuple[type, ...]
    async_raw: tuple[type, ...]
    server: ServerFn
    client: Callable[[Any], Any] = attrgetter("_client")
    """The patched resource -> the SDK client that ``server`` and the credentials are read from
    (``resource._client`` in the OpenAI and Anthropic SDKs; Google GenAI's is ``_api_client``).
    None: the SDK refuses this call before sending any request (it raises), so it makes no span."""
    sends: bool = False
    """The provider patches the SDK's request method with :func:`._deferred.request_reached`: the
    span starts there, so a call the SDK refuses before sending makes none (see ``_deferred``)."""
    secrets: Callable[[Any], tuple[str, ...]] = client_secrets
    """The client -> its credentials, redacted from everything recorded (a provider whose
    ``client`` makes its own object may keep them made there)."""


def server_of(attributes: Callable[[str, str, int | None], tuple[tuple[str, Any], ...]]) -> ServerFn:
    """A ``client -> server attributes`` function, cached per base-URL object.

    Reading the client's base URL and splitting it costs more than the rest of the request
    attributes together, and it changes only when the client is rebuilt.
    """
    cache: dict[int, tuple[Any, tuple[tuple[str, Any], ...]]] = {}

    def server(client: Any) -> tuple[tuple[str, Any], ...]:
        url = getattr(client, "_base_url", None) or client.base_url
        entry = cache.get(id(url))
        if entry is not None and entry[0] is url:
            return entry[1]
        found = attributes(url.scheme, url.host, url.port)
        if len(cache) >= 256:
            cache.clear()
        cache[id(url)] = (url, found)  # the URL is kept, so its id cannot be reused meanwhile
        return found

    return server


class Operation:
    """Start/result pair of one operation kind, bound to one :class:`Telemetry` and boundary.

    ``request``: request kwargs -> span attributes (with the operation name and the model);
    ``response``: response -> :data:`Outcome`; ``content_in``: request kwargs -> the keyword
    arguments of :func:`~agentotel._content.content_attributes` (``system``, ``inputs``,
    ``tools``); ``content_out``: response -> output messages; ``accumulator``: the stream
    accumulator class (None: the operation does not stream); ``tool_results``: request kwargs ->
    ``(call id, is error)`` of the tool results it sends back (None: it sends none).
    """

    def __init__(
        self,
        telemetry: Telemetry,
        boundary: Boundary,
        sdk: SdkTypes,
        *,
        request: RequestFn,
        response: ResponseFn,
        content_in: ContentInFn,
        content_out: ContentOutFn,
        accumulator: AccumulatorFn | None,
        tool_results: ToolResultsFn | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.boundary = boundary
        self.sdk = sdk
        self.request = request
        self.response = response
        self.content_in = content_in
        self.content_out = content_out
        self.accumulator = accumulator
        self.tool_results = tool_results
        self.stream_types = (sdk.stream, sdk.async_stream)
        capture = telemetry.settings.capture
        self.capture_span = capture.on_span
        self.capture_event = capture.on_event
        self.content_max_length = telemetry.settings.content_max_length
        self.latest = telemetry.inference is not None

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Invocation | None:
        """Open the span with everything a sampler may look at.

        None (the call runs uninstrumented) inside another of our LLM calls (:data:`LLM_CALL_KEY`):
        a library that routes through an SDK we also instrument (LiteLLM calling ``openai``) makes
        one LLM span per call, the outer one, and counts its tokens once.

        First, if the request sends back results of tool calls that an earlier response asked
        for, the tool executions in between become inferred ``execute_tool`` spans.
        """
        ctx = current()
        if ctx.get(LLM_CALL_KEY):
            return None
        client = self.sdk.client(instance)
        if client is None:  # refused before any request: no span (``SdkTypes.client``)
            return None
        if self.tool_results is not None and self.telemetry.pending:
            # A failure here must cost the inferred spans only, not the LLM span.
            self.boundary.call(None, self._infer_tools, kwargs)
            ctx = current()
        attrs = self.request(kwargs)
        if self.latest:
            request_attributes(attrs)
        attrs.update(self.sdk.server(client))
        model = str(attrs[semconv.GEN_AI_REQUEST_MODEL])
        operation = str(attrs[semconv.GEN_AI_OPERATION_NAME])
        inv = Invocation(
            self.telemetry, self.boundary, f"{operation} {model}" if model else operation, attrs, ctx
        )
        # The client's credentials are redacted from whatever is recorded, content or an error
        # message that repeats them.
        secrets = self.sdk.secrets(client)
        remember(secrets)
        # Content is only worth encoding if it goes somewhere: a recording span or the event.
        if self.capture_event or (self.capture_span and inv.recording):
            inv.secrets = secrets
            inv.add_content(content_attributes(self.content_max_length, secrets, **self.content_in(kwargs)))
        return inv

    def _infer_tools(self, kwargs: Mapping[str, Any]) -> None:
        assert self.tool_results is not None
        infer_tool_spans(self.telemetry, self.tool_results(kwargs))

    def stream(self, inv: Invocation, stream: Any) -> Any:
        """``stream`` (an SDK stream object) behind the proxy that ends ``inv``'s span."""
        assert self.accumulator is not None
        acc = self.accumulator(inv.secrets is not None)
        if isinstance(stream, self.sdk.async_stream):
            return AsyncStreamProxy(stream, acc, inv)
        return SyncStreamProxy(stream, acc, inv)

    def result(self, inv: Invocation, result: Any) -> Any:
        """Finish the span from ``result``, or hand it to a stream/raw-response proxy."""
        sdk = self.sdk
        if self.accumulator is not None and isinstance(result, self.stream_types):
            return self.stream(inv, result)
        if isinstance(result, sdk.async_raw):
            return AsyncRawResponseProxy(result, inv, self.result)
        if isinstance(result, sdk.raw):
            return RawResponseProxy(result, inv, self.result)
        attrs, input_tokens, output_tokens, model = self.response(result)
        if inv.secrets is not None:
            outputs = self.content_out(result)
            if outputs:
                inv.add_content(content_attributes(self.content_max_length, inv.secrets, outputs=outputs))
        inv.finish(attrs, input_tokens, output_tokens, model)
        return result

    def sync(self) -> Callable[..., Any]:
        """The ``wrapt`` wrapper for the sync method."""
        return (_deferred.sync_wrapper if self.sdk.sends else sync_wrapper)(
            self.boundary, self.start, self.result
        )

    def async_(self) -> Callable[..., Any]:
        """The ``wrapt`` wrapper for the async method."""
        return (_deferred.async_wrapper if self.sdk.sends else async_wrapper)(
            self.boundary, self.start, self.result
        )


class PlainStreams(Operation):
    """An operation whose plain streams are read from their last chunks.

    ``plain``: request kwargs -> True for a streamed request that can get neither a tool call nor
    more than one choice (the provider's rule); such a stream, with content capture off, is read
    with ``last()`` (a :class:`~._accumulator.LastChunks`: nothing of ours runs per chunk), any
    other with the operation's every-chunk accumulator. ``start`` hands its answer to ``stream``
    for the same invocation only (``is``): a call of another thread or task started in between
    leaves another invocation here, and this stream is read chunk by chunk. (One invocation is
    kept until the next plain stream at most.)
    """

    _plain: Invocation | None = None

    def __init__(
        self,
        *args: Any,
        plain: Callable[[Mapping[str, Any]], bool],
        last: Callable[[], StreamAccumulator],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.plain = plain
        self.last = last

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Invocation | None:
        plain = self.plain(kwargs)  # before the span: if it raises, no span is left open
        inv = super().start(instance, args, kwargs)
        if plain and inv is not None:
            self._plain = inv
        return inv

    def stream(self, inv: Invocation, stream: Any) -> Any:
        plain, self._plain = self._plain, None
        if plain is not inv or inv.secrets is not None:
            return super().stream(inv, stream)
        if isinstance(stream, self.sdk.async_stream):
            return AsyncStreamProxy(stream, self.last(), inv)
        return SyncStreamProxy(stream, self.last(), inv)
