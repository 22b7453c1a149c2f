"""Amazon Bedrock Runtime: ``POST /model/{model}/converse`` (JSON), ``/converse-stream`` and
``/invoke-with-response-stream`` (the AWS binary event-stream framing: prelude, headers,
CRC32s), ``/invoke`` (the model family's own JSON body), with AWS's ``x-amzn-ErrorType`` errors.

``invoke`` bodies follow the model id's family: ``anthropic.*`` (Anthropic Messages, via
:mod:`.anthropic_messages`), ``amazon.nova*`` (Nova ``messages-v1``), ``meta.llama*`` (Llama
``prompt`` / ``generation``); any other model gets an Amazon Titan text body. Invoke responses carry
the ``X-Amzn-Bedrock-Input/Output-Token-Count`` headers, the last streamed chunk
``amazon-bedrock-invocationMetrics``, as Bedrock sends them. A model id containing
``stream-exception`` fails a stream after two events with an exception event.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib

from . import anthropic_messages
from ._core import (
    JSON,
    BadRequest,
    Ctx,
    ErrorFormat,
    Route,
    Wire,
    answer,
    first_tool,
    json_response,
    pieces,
    split_json,
)
from ._state import FakeResponse, count_tokens

__all__ = ["EVENTSTREAM_CT", "STREAM_EXCEPTION", "WIRE", "frame"]

EVENTSTREAM_CT = "application/vnd.amazon.eventstream"
STREAM_EXCEPTION = "stream-exception"
"""A model id containing this gets, on a streamed route, a ``modelStreamErrorException`` event
after two events."""
_ERROR_NS = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total and header lengths, CRC32), string headers,
    payload, CRC32 of everything before it."""
    head = b""
    for name, value in headers.items():
        n, v = name.encode(), value.encode()
        head += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _event(kind: str, data: object) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(data, separators=(",", ":")).encode())


def _error_body(status: int, etype: str, message: str, code: str | None, request_id: str) -> FakeResponse:
    del code
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": etype + _ERROR_NS}
    return json_response(status, {"message": message}, headers)


ERRORS = ErrorFormat(
    body=_error_body,
    scenarios={
        "rate_limit": (
            429,
            "ThrottlingException",
            None,
            "Too many requests, please wait before trying again.",
        ),
        "server_error": (500, "InternalServerException", None, "Internal server error (fake LLM server)."),
        "overloaded": (
            503,
            "ServiceUnavailableException",
            None,
            "Bedrock is unable to process your request.",
        ),
        "bad_request": (400, "ValidationException", None, "Invalid request (fake LLM server scenario)."),
    },
    # A frame whose message CRC is wrong: the SDK's decoder rejects it.
    malformed_event=frame({":event-type": "chunk"}, b'{"broken')[:-4] + b"\x00\x00\x00\x00",
)


# --------------------------------------------------------------------------- Converse


def _blocks_text(content: object) -> list[str]:
    out: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if isinstance(block.get("text"), str):
                out.append(block["text"])
            result = block.get("toolResult")
            if isinstance(result, dict):
                out.extend(_blocks_text(result.get("content")))
    return out


def _messages(req: JSON) -> list[JSON]:
    msgs = req.get("messages")
    if not isinstance(msgs, list):
        raise BadRequest("messages: must be an array")
    return [m for m in msgs if isinstance(m, dict)]


def _tool_spec(tool: JSON) -> tuple[str, object] | None:
    spec = tool.get("toolSpec")
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        schema = spec.get("inputSchema")
        return spec["name"], schema.get("json") if isinstance(schema, dict) else None
    return None


def _returns_result(msgs: list[JSON]) -> bool:
    last = msgs[-1] if msgs else {}
    content = last.get("content")
    return isinstance(content, list) and any(isinstance(b, dict) and "toolResult" in b for b in content)


def _limit(config: object, key: str) -> int | None:
    value = config.get(key) if isinstance(config, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _converse_reply(ctx: Ctx) -> tuple[list[JSON], str, JSON]:
    """The assistant's content blocks, stop reason and usage of a Converse request."""
    req, sc = ctx.req, ctx.sc
    msgs = _messages(req)
    prompt = _blocks_text(req.get("system")) + [t for m in msgs for t in _blocks_text(m.get("content"))]
    config = req.get("toolConfig")
    tools = config.get("tools") if isinstance(config, dict) else None
    offered = None if _returns_result(msgs) else first_tool(tools, _tool_spec)
    reply = answer(ctx, prompt, offered, _limit(req.get("inferenceConfig"), "maxTokens"))
    blocks: list[JSON] = [
        {"toolUse": {"toolUseId": f"tooluse_{ctx.state.next_id('tooluse')}", "name": name, "input": args}}
        for name, args in reply.calls
    ]
    if not reply.calls:
        blocks.append({"text": reply.text})
    total = sum(count_tokens(t) for t in prompt)
    output = reply.visible_tokens
    usage = {
        "inputTokens": max(0, total - sc.cached - sc.cache_write),
        "outputTokens": output,
        "totalTokens": total + output,
        "cacheReadInputTokens": sc.cached,
        "cacheWriteInputTokens": sc.cache_write,
    }
    return blocks, reply.reason(calls="tool_use", truncated="max_tokens", done="end_turn"), usage


def _headers(ctx: Ctx) -> dict[str, str]:
    return {"x-amzn-RequestId": ctx.request_id}


def _converse(ctx: Ctx) -> FakeResponse:
    blocks, reason, usage = _converse_reply(ctx)
    body = {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": reason,
        "usage": usage,
        "metrics": {"latencyMs": 12},
    }
    return json_response(200, body, _headers(ctx))


def _stream(ctx: Ctx, events: list[bytes]) -> FakeResponse:
    if STREAM_EXCEPTION in ctx.params.get("model", ""):
        # Bedrock's way to fail a stream already under way: an exception message in the stream.
        headers = {
            ":message-type": "exception",
            ":exception-type": "modelStreamErrorException",
            ":content-type": "application/json",
        }
        body = {"message": "The model failed mid-stream (fake LLM server).", "originalStatusCode": 500}
        events = [*events[:2], frame(headers, json.dumps(body).encode())]
    return FakeResponse(200, {"content-type": EVENTSTREAM_CT, **_headers(ctx)}, events)


def _converse_stream(ctx: Ctx) -> FakeResponse:
    blocks, reason, usage = _converse_reply(ctx)
    events = [_event("messageStart", {"role": "assistant"})]
    for index, block in enumerate(blocks):
        if "toolUse" in block:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            events.append(_event("contentBlockStart", {"start": start, "contentBlockIndex": index}))
            deltas: list[JSON] = [{"toolUse": {"input": p}} for p in split_json(json.dumps(use["input"]))]
        else:
            deltas = [{"text": p} for p in pieces(block["text"])]
        events += [_event("contentBlockDelta", {"delta": d, "contentBlockIndex": index}) for d in deltas]
        events.append(_event("contentBlockStop", {"contentBlockIndex": index}))
    events.append(_event("messageStop", {"stopReason": reason}))
    events.append(_event("metadata", {"usage": usage, "metrics": {"latencyMs": 12}}))
    return _stream(ctx, events)


# --------------------------------------------------------------------------- InvokeModel


def _family(model: str) -> str:
    for prefix, family in (("anthropic.", "anthropic"), ("amazon.nova", "nova"), ("meta.llama", "llama")):
        if prefix in model:  # also with a cross-region prefix: us.anthropic.claude-...
            return family
    return "titan"


def _metrics(input_tokens: int, output_tokens: int) -> JSON:
    return {
        "inputTokenCount": input_tokens,
        "outputTokenCount": output_tokens,
        "invocationLatency": 12,
        "firstByteLatency": 5,
    }


def _invoke_chunks(ctx: Ctx) -> tuple[JSON, list[JSON], int, int]:
    """The invoke body, its streamed chunks (without the metrics), input and output tokens."""
    model = ctx.params.get("model", "")
    family = _family(model)
    req = ctx.req
    body: JSON
    chunks: list[JSON]
    if family == "anthropic":
        sub = Ctx(
            {**req, "model": model.split(".", 1)[-1]}, ctx.sc, ctx.state, ctx.request_id, False, ctx.scripted
        )
        message = json.loads(anthropic_messages._messages(sub).body)
        chunks = [
            json.loads(line[6:])
            for event in anthropic_messages._events(message)
            for line in event.decode().splitlines()
            if line.startswith("data: ")
        ]
        usage = message["usage"]
        inputs = (
            usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]
        )
        return message, chunks, inputs, usage["output_tokens"]
    if family == "nova":
        converse = {
            **req,
            "inferenceConfig": {"maxTokens": _limit(req.get("inferenceConfig"), "max_new_tokens")},
        }
        blocks, reason, usage = _converse_reply(
            Ctx(converse, ctx.sc, ctx.state, ctx.request_id, False, ctx.scripted)
        )
        body = {
            "output": {"message": {"role": "assistant", "content": blocks}},
            "stopReason": reason,
            "usage": usage,
        }
        chunks = [{"messageStart": {"role": "assistant"}}]
        for index, block in enumerate(blocks):
            if "text" in block:
                chunks += [
                    {"contentBlockDelta": {"delta": {"text": p}, "contentBlockIndex": index}}
                    for p in pieces(block["text"])
                ]
            else:
                chunks.append(
                    {
                        "contentBlockStart": {
                            "start": {"toolUse": {k: block["toolUse"][k] for k in ("toolUseId", "name")}},
                            "contentBlockIndex": index,
                        }
                    }
                )
                chunks.append(
                    {
                        "contentBlockDelta": {
                            "delta": {"toolUse": {"input": json.dumps(block["toolUse"]["input"])}},
                            "contentBlockIndex": index,
                        }
                    }
                )
            chunks.append({"contentBlockStop": {"contentBlockIndex": index}})
        chunks.append({"messageStop": {"stopReason": reason}})
        chunks.append(
            {
                "metadata": {
                    "usage": {"inputTokens": usage["inputTokens"], "outputTokens": usage["outputTokens"]}
                }
            }
        )
        return body, chunks, usage["inputTokens"], usage["outputTokens"]
    prompt_key, limit_key = ("prompt", "max_gen_len") if family == "llama" else ("inputText", "")
    prompt = req.get(prompt_key)
    if not isinstance(prompt, str):
        raise BadRequest(f"{prompt_key}: must be a string")
    config = req.get("textGenerationConfig")
    limit = _limit(req, limit_key) if family == "llama" else _limit(config, "maxTokenCount")
    reply = answer(ctx, [prompt], None, limit)
    inputs, output = count_tokens(prompt), reply.visible_tokens
    if family == "llama":
        reason = reply.reason(calls="stop", truncated="length", done="stop")
        body = {
            "generation": reply.text,
            "prompt_token_count": inputs,
            "generation_token_count": output,
            "stop_reason": reason,
        }
        parts = pieces(reply.text)
        chunks = [
            {
                "generation": p,
                "prompt_token_count": inputs if i == 0 else None,
                "generation_token_count": i + 1,
                "stop_reason": reason if i == len(parts) - 1 else None,
            }
            for i, p in enumerate(parts)
        ]
        return body, chunks, inputs, output
    reason = reply.reason(calls="FINISH", truncated="LENGTH", done="FINISH")
    result: JSON = {"tokenCount": output, "outputText": reply.text, "completionReason": reason}
    body = {"inputTextTokenCount": inputs, "results": [result]}
    chunks = [
        {
            "outputText": reply.text,
            "index": 0,
            "totalOutputTextTokenCount": output,
            "completionReason": reason,
            "inputTextTokenCount": inputs,
        }
    ]
    return body, chunks, inputs, output


def _invoke(ctx: Ctx) -> FakeResponse:
    body, _, inputs, output = _invoke_chunks(ctx)
    headers = {
        **_headers(ctx),
        "X-Amzn-Bedrock-Input-Token-Count": str(inputs),
        "X-Amzn-Bedrock-Output-Token-Count": str(output),
        "X-Amzn-Bedrock-Invocation-Latency": "12",
    }
    return json_response(200, body, headers)


def _invoke_stream(ctx: Ctx) -> FakeResponse:
    _, chunks, inputs, output = _invoke_chunks(ctx)
    chunks[-1] = {**chunks[-1], "amazon-bedrock-invocationMetrics": _metrics(inputs, output)}
    events = [_event("chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode()}) for c in chunks]
    resp = _stream(ctx, events)
    resp.headers["X-Amzn-Bedrock-Content-Type"] = "application/json"
    return resp


WIRE = Wire(
    routes={
        "/model/{model}/converse": Route(_converse, streams=False),
        "/model/{model}/converse-stream": Route(_converse_stream, streams=True),
        "/model/{model}/invoke": Route(_invoke, streams=False),
        "/model/{model}/invoke-with-response-stream": Route(_invoke_stream, streams=True),
    },
    errors=ERRORS,
)
