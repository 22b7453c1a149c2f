"""The Bedrock Runtime operations: which botocore types, extractors and accumulators each uses.

Imported only when ``botocore`` is (it imports ``botocore``). botocore builds its clients at run
time, so the one patch point is ``BaseClient._make_api_call``, where every AWS call of every
service passes: :func:`make_api_call` lets any call that is not one of our four operations of
``bedrock-runtime`` through at the cost of one set lookup (and, for the four names, one
attribute read), and hands the others to their :class:`Operation`. Two specials: the stream is
a value of the response dict (``stream`` / ``body``), and ``invoke_model``'s ``body`` is read
once here and handed back to the app as a fresh ``StreamingBody`` over the same bytes.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from botocore.eventstream import EventStream  # type: ignore[import-untyped]
from botocore.response import StreamingBody  # type: ignore[import-untyped]

from agentotel._redact import remember
from agentotel._safe import Boundary
from agentotel._telemetry import Telemetry
from agentotel.instrumentation import _deferred
from agentotel.instrumentation._invocation import Invocation
from agentotel.instrumentation._operation import Operation, SdkTypes
from agentotel.instrumentation.bedrock import content, extract, invoke
from agentotel.instrumentation.bedrock.stream import ConverseStreamAccumulator, InvokeStreamAccumulator

SERVICE = "bedrock-runtime"
_HOOK_ID = "agentotel-bedrock-request-created"


class _NoAsyncStream:
    """botocore has no async client (aiobotocore is not instrumented)."""


class _Stored:
    """The credentials a client's signer holds, as stored (never the properties: a refreshable
    credential would refresh), and the dicts they are stored in, to be read again on each call:
    :func:`_stored` of them equal to ``seen`` means they are the ones read."""

    __slots__ = ("auth", "credentials", "secret_key", "seen", "signer", "token_key")

    def __init__(self, client: Any) -> None:
        self.signer = _dict_of(getattr(client, "_request_signer", None))
        credentials = self.signer.get("_credentials")
        # ``Credentials`` keeps them as ``secret_key`` / ``token``, ``RefreshableCredentials`` as
        # ``_secret_key`` / ``_token`` (what its properties would refresh).
        self.credentials = found = _dict_of(credentials)
        self.secret_key = "secret_key" if "secret_key" in found else "_secret_key"
        self.token_key = "token" if "token" in found else "_token"
        # A ``DeferredRefreshableToken`` (Bedrock API key) keeps its current token here.
        self.auth = _dict_of(self.signer.get("_auth_token"))
        self.seen = _stored(self)


def _dict_of(obj: Any) -> dict[str, Any]:
    found = getattr(obj, "__dict__", None)
    return found if type(found) is dict else {}


def _stored(s: _Stored) -> tuple[Any, ...]:
    """Secret key, session token, credentials object, auth token and its current token, as the
    client stores them now (the wrapper repeats this expression inline: it runs on every call)."""
    return (
        s.credentials.get(s.secret_key),
        s.credentials.get(s.token_key),
        s.signer.get("_credentials"),
        s.signer.get("_auth_token"),
        s.auth.get("_frozen_token"),
    )


class _Client:
    """What the engine reads of a client: the server attributes of its endpoint (``server``) and
    the credentials to redact (``api_key`` / ``auth_token``: the secret key and the session token,
    and a Bedrock API key, the bearer token botocore sends instead of a SigV4 signature when
    ``AWS_BEARER_TOKEN_BEDROCK`` is set, in the first of them that is free, else remembered for
    redaction directly)."""

    __slots__ = ("api_key", "auth_token", "server")

    def __init__(self, server: tuple[tuple[str, Any], ...], stored: tuple[Any, ...]) -> None:
        self.server = server
        secret, token, _, auth, _ = stored
        bearer = _bearer_key(auth)
        if bearer is not None:
            if not secret:
                secret = bearer
            elif not token:
                token = bearer
            else:
                remember((bearer,))
        self.api_key = secret
        self.auth_token = token


def _bearer_key(auth: Any) -> str | None:
    """The bearer key of a client's auth token (botocore's ``FrozenAuthToken``, or the token a
    ``DeferredRefreshableToken`` holds: read, never refreshed); None without one."""
    if auth is None:
        return None
    key = getattr(auth, "token", None)
    if not isinstance(key, str):
        key = getattr(getattr(auth, "_frozen_token", None), "token", None)
    return key if isinstance(key, str) and key else None


class _Resource:
    """The patched "resource" the engine sees (its ``_client``), kept per botocore client
    (``owner``) with what tells whether the client's credentials changed since (``stored``)."""

    __slots__ = ("_client", "owner", "stored")

    def __init__(
        self, client: Any, server: tuple[tuple[str, Any], ...], forget: Callable[[Any], object]
    ) -> None:
        self.owner = weakref.ref(client, forget)  # ``forget``: called when the client is gone
        self.stored = stored = _Stored(client)
        self._client = _Client(server, stored.seen)


class _StreamIn(Operation):
    """An operation whose response dict holds the ``EventStream`` under ``key``."""

    key = "stream"

    def result(self, inv: Invocation, result: Any) -> Any:
        stream = result.get(self.key) if isinstance(result, dict) else None
        if isinstance(stream, EventStream):
            result[self.key] = self.stream(inv, stream)
            return result
        return super().result(inv, result)


class _InvokeStream(_StreamIn):
    key = "body"


class _FailedBody:
    """A body whose read failed in our hands: every read raises that same exception again."""

    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise self._exc

    iter_lines = iter_chunks = readlines = __iter__ = __next__ = read

    def close(self) -> None:
        pass


class _Invoke(Operation):
    """``invoke_model``: the body is read here, the app gets the same bytes in a new body."""

    def result(self, inv: Invocation, result: Any) -> Any:
        body = result.get("body") if isinstance(result, dict) else None
        if not isinstance(body, StreamingBody):
            return super().result(inv, result)
        try:
            data = body.read()
        except Exception as exc:
            result["body"] = _FailedBody(exc)
            inv.fail(exc)
            return result
        result["body"] = StreamingBody(io.BytesIO(data), len(data))
        super().result(inv, {**result, "body": data})
        return result


def _sdk() -> SdkTypes:
    """botocore's stream type; the server attributes, read once per client (:class:`_Client`)."""
    return SdkTypes(
        stream=EventStream,
        async_stream=_NoAsyncStream,
        raw=(),
        async_raw=(),
        server=attrgetter("server"),
        sends=True,  # the span starts at botocore's request-created event (see make_api_call)
    )


def make_api_call(telemetry: Telemetry, boundary: Boundary) -> Callable[..., Any]:
    """The wrapper of ``BaseClient._make_api_call(operation_name, api_params)``."""
    converse = {
        "content_in": content.converse_request_content,
        "tool_results": content.converse_tool_results,
        "response": extract.converse_response_attributes,
        "content_out": content.converse_output_messages,
    }
    invoking = {
        "content_in": content.invoke_request_content,
        "tool_results": content.invoke_tool_results,
        "response": invoke.invoke_response_attributes,
        "content_out": content.invoke_output_messages,
    }
    sdk = _sdk()

    def _op(cls: type[Operation], **hooks: Any) -> Callable[..., Any]:
        return cls(telemetry, boundary, sdk, **hooks).sync()

    wrappers = {
        "Converse": _op(
            Operation,
            request=extract.converse_request_attributes,
            accumulator=None,
            **converse,
        ),
        "ConverseStream": _op(
            _StreamIn,
            request=extract.converse_stream_request_attributes,
            accumulator=ConverseStreamAccumulator,
            **converse,
        ),
        "InvokeModel": _op(
            _Invoke,
            request=invoke.invoke_request_attributes,
            accumulator=None,
            **invoking,
        ),
        "InvokeModelWithResponseStream": _op(
            _InvokeStream,
            request=invoke.invoke_stream_request_attributes,
            accumulator=InvokeStreamAccumulator,
            **invoking,
        ),
    }

    ours = wrappers.get
    # The event emitters (one per client) where the call's start is hooked: botocore emits
    # ``request-created`` when it builds a validated call's request (each attempt), so a call it
    # refuses before (``ParamValidationError``) starts nothing. Registered on a Bedrock Runtime
    # client at its first call only: other services' calls pay nothing for it.
    hooked: weakref.WeakSet[Any] = weakref.WeakSet()
    # What the engine reads of each client, by ``id``: read at the client's first call and again
    # only when its credentials change (a refresh), not on every call.
    clients: dict[int, _Resource] = {}

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        # Every AWS call of the process comes here: the others leave after one dict lookup.
        op = ours(args[0]) if args else None
        if op is None:
            return wrapped(*args, **kwargs)
        if len(args) != 2 or kwargs:
            return wrapped(*args, **kwargs)
        try:
            resource = clients.get(id(instance))
            if resource is not None:
                stored = resource.stored
                if resource.owner() is not instance or stored.seen != (  # ``_stored(stored)`` inline
                    stored.credentials.get(stored.secret_key),
                    stored.credentials.get(stored.token_key),
                    stored.signer.get("_credentials"),
                    stored.signer.get("_auth_token"),
                    stored.auth.get("_frozen_token"),
                ):
                    resource = None
            if resource is None:
                key = id(instance)
                resource = _resource(instance, hooked, lambda _: clients.pop(key, None))
                if resource is not None:
                    if len(clients) >= 256:
                        clients.clear()
                    clients[key] = resource
        except Exception as bug:
            boundary.report(bug)
            return wrapped(*args, **kwargs)
        if resource is None:
            return wrapped(*args, **kwargs)
        params = args[1]
        return op(lambda **_: wrapped(*args), resource, (), params if isinstance(params, dict) else {})

    return wrapper


def _resource(client: Any, hooked: weakref.WeakSet[Any], forget: Callable[[Any], object]) -> _Resource | None:
    """What the engine reads of a ``bedrock-runtime`` client (its ``request-created`` event hooked
    to start the pending call, once per client); None for another service's."""
    if str(client._service_model.service_name) != SERVICE:
        return None
    events = client.meta.events
    if events not in hooked:
        events.register(f"request-created.{SERVICE}", _deferred.reached, unique_id=_HOOK_ID)
        hooked.add(events)
    return _Resource(client, extract.server_attributes(client.meta.endpoint_url), forget)
