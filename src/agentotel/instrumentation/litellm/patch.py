"""The LiteLLM operations: which types, extractors and accumulator each one uses.

Imported only when ``litellm`` is (it imports ``litellm``). Bindings, plus the two things a
library of module functions needs that an SDK client has: the call's route (provider, model
without the ``provider/`` prefix, base URL, key), read from LiteLLM's own ``get_llm_provider``
in place of a client, and the leading positional arguments (``completion("gpt-4o", msgs)``)
passed on by name, so the request is read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import litellm
from litellm.exceptions import BadRequestError
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper
from openai import AsyncOpenAI, OpenAI

from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.agent import Step
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation.litellm import content, extract
from agentotel.instrumentation.litellm.stream import CompletionStreamAccumulator

ROUTER_STEP_TYPE = "litellm_router"
"""``agentotel.step.type`` of the step span around one ``Router`` call."""

# Base URLs LiteLLM uses when none is given (server.address of a call without ``api_base``).
_DEFAULT_BASES = {"openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com"}

# ``openai`` SDK clients (``AzureOpenAI`` included): LiteLLM sends an ``openai/*``, ``azure/*`` or
# OpenAI-compatible request through one given as ``client=`` as it is, whatever ``api_base`` says.
_SDK_CLIENTS = (OpenAI, AsyncOpenAI)

ROUTES_MAX = 256
"""How many routes :func:`route` keeps (then it starts over)."""
ROUTES: dict[tuple[Any, ...], tuple[Any, Route]] = {}
"""Routes read so far, by (model, custom_llm_provider, api_base or base_url, api_key, id of the client's base
URL): the base URL object is kept in the entry, so its id cannot be reused meanwhile."""


def _api_base(request: Mapping[str, Any]) -> Any:
    """The base URL the request names: ``base_url`` (LiteLLM's other name for it, which wins
    when given) or ``api_base``."""
    given = request.get("base_url")
    return request.get("api_base") if given is None else given


class Route:
    """Where one call goes, read from the request as LiteLLM reads it: what the engine reads a
    client's server attributes and credentials from. ``client_url``: the base URL of the
    ``openai`` SDK client the request gives (the request goes there), else None."""

    __slots__ = ("api_key", "attributes", "unroutable")

    def __init__(self, request: Mapping[str, Any], client_url: Any = None) -> None:
        given = request.get("api_key")
        self.api_key = given if isinstance(given, str) else None
        self.unroutable = False
        try:
            model, provider, key, base = litellm.get_llm_provider(
                model=str(request.get("model") or ""),
                custom_llm_provider=request.get("custom_llm_provider"),
                api_base=_api_base(request),
                api_key=request.get("api_key"),
            )
        except BadRequestError:
            # A model LiteLLM cannot route ("LLM Provider NOT provided"): the call fails the same
            # way, before any request (see :func:`refused`).
            self.attributes: tuple[tuple[str, Any], ...] = ()
            self.unroutable = True
            return
        if self.api_key is None and isinstance(key, str):
            self.api_key = key
        if client_url is not None:
            base = str(client_url)
        else:
            base = _api_base(request) or base or _DEFAULT_BASES.get(provider)
        self.attributes = extract.route_attributes(provider, model, base if isinstance(base, str) else None)


# Request keys with which LiteLLM does not resolve the model as given (fallbacks, a model list, an
# Azure deployment, a proxy): there a model we cannot route may still be sent somewhere.
_REROUTED = ("fallbacks", "model_list", "deployment_id", "azure", "use_litellm_proxy")
_ROUTE_KEYS = ("custom_llm_provider", "api_base", "base_url", "api_key")


def refused(request: Mapping[str, Any], found: Route) -> bool:
    """Whether LiteLLM refuses ``request`` before any request: its model is one LiteLLM cannot
    route, read as LiteLLM reads it (the same ``get_llm_provider`` on the same model, provider,
    base and key). Only where nothing else decides the route: no fallbacks, model list, model
    alias, Azure deployment or proxy, and one of provider, base or key given (with none of them,
    LiteLLM may take them from other parameters of the call)."""
    if not found.unroutable or litellm.model_fallbacks:
        return False
    if any(request.get(name) for name in _REROUTED):
        return False
    model = request.get("model")
    if isinstance(model, str) and model in (litellm.model_alias_map or {}):
        return False
    return any(request.get(name) is not None for name in _ROUTE_KEYS)


def route(request: Mapping[str, Any]) -> Route | None:
    """The route of ``request``: LiteLLM's ``get_llm_provider`` (over 100,000 instructions) runs
    once per (model, ``custom_llm_provider``, ``api_base``, ``api_key``, ``client`` base URL); the
    same model name sent elsewhere is another route. None for a call LiteLLM refuses before any
    request (:func:`refused`): the engine makes no span for it."""
    client = request.get("client")
    url = client.base_url if client is not None and isinstance(client, _SDK_CLIENTS) else None
    try:
        key = (
            request.get("model"),
            request.get("custom_llm_provider"),
            _api_base(request),
            request.get("api_key"),
            id(url),
        )
        entry = ROUTES.get(key)
    except TypeError:  # an unhashable value: read uncached (LiteLLM decides what it means)
        found = Route(request, url)
        return None if refused(request, found) else found
    if entry is not None and entry[0] is url:
        return entry[1]
    found = Route(request, url)
    if found.unroutable:
        return None if refused(request, found) else found
    if found.attributes:  # a model LiteLLM could not route may be registered later
        if len(ROUTES) >= ROUTES_MAX:
            ROUTES.clear()
        ROUTES[key] = (url, found)
    return found


def _attributes(found: Route) -> tuple[tuple[str, Any], ...]:
    return found.attributes


class _Never:
    """The stream type of the other flavour: LiteLLM's sync and async streams are one class."""


def _sdk(is_async: bool) -> SdkTypes:
    return SdkTypes(
        stream=_Never if is_async else CustomStreamWrapper,
        async_stream=CustomStreamWrapper if is_async else _Never,
        raw=(),
        async_raw=(),
        server=_attributes,
        client=route,
    )


def _by_name(op_wrapper: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """The operation's wrapper, given the request as keyword arguments and the request as the
    'instance' the route is read from. Leading positional arguments are passed on by the names
    they bind to, which calls the function the same way; any other call shape is passed as is."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if args and len(args) <= len(names) and not any(n in kwargs for n in names[: len(args)]):
            kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
            args = ()
        return op_wrapper(wrapped, kwargs, args, kwargs)

    return wrapper


def completion(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """``litellm.completion`` / ``acompletion`` (also what ``Router`` calls per attempt)."""
    op = Operation(
        telemetry,
        boundary,
        _sdk(is_async),
        request=extract.completion_request_attributes,
        response=extract.completion_response_attributes,
        content_in=content.completion_request_content,
        content_out=content.completion_output_messages,
        accumulator=CompletionStreamAccumulator,
        tool_results=content.tool_results,
    )
    return _by_name(op.async_() if is_async else op.sync(), ("model", "messages"))


def embedding(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """``litellm.embedding`` / ``aembedding``."""
    op = Operation(
        telemetry,
        boundary,
        _sdk(is_async),
        request=extract.embedding_request_attributes,
        response=extract.embedding_response_attributes,
        content_in=content.embedding_request_content,
        content_out=content.no_output,
        accumulator=None,
    )
    return _by_name(op.async_() if is_async else op.sync(), ("model", "input"))


class RouterCall(Step):
    """One ``Router`` call (``step {model group}``, type ``litellm_router``): the parent of the LLM
    span of each attempt it makes (retries, fallbacks)."""

    __slots__ = ()
    component = "litellm"


def _router_call(telemetry: Telemetry, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RouterCall | None:
    model = kwargs.get("model", args[0] if args else None)
    return RouterCall(model, ROUTER_STEP_TYPE, telemetry) if isinstance(model, str) else None


def router(telemetry: Telemetry, boundary: Boundary, is_async: bool) -> Callable[..., Any]:
    """``Router.completion`` / ``acompletion`` / ``embedding`` / ``aembedding``: a step span around
    the call, so the attempts' LLM spans share one parent. A streamed call's step ends when the
    router returns the stream; the attempt's LLM span ends with the stream."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, _router_call, telemetry, args, kwargs)
        if block is None:
            return wrapped(*args, **kwargs)
        with block:
            return wrapped(*args, **kwargs)

    async def async_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        block = boundary.call(None, _router_call, telemetry, args, kwargs)
        if block is None:
            return await wrapped(*args, **kwargs)
        async with block:
            return await wrapped(*args, **kwargs)

    return async_wrapper if is_async else wrapper
