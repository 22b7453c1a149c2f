"""The demo agent: a tool loop, a stream, a handled API error, an embedding and a Claude call.

Used by ``agentotel demo`` (offline, against the fake LLM server) and by ``examples/agent.py``
(offline, or online with real keys). It is plain SDK code: all telemetry comes from the
instrumentors, nothing here mentions OpenTelemetry.
"""

from __future__ import annotations

import json
from typing import Any

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def get_weather(city: str) -> str:
    """The agent's one tool."""
    return json.dumps({"city": city, "forecast": "sunny", "celsius": 21})


def run_openai(client: Any, model: str, offline: bool, say: Any = print) -> None:
    """Tool loop, stream, a handled rate-limit error and an embedding, with the OpenAI SDK."""
    import openai

    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]
    reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    if message.tool_calls:
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments or "{}")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": get_weather(**args)})
        reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    say(f"agent: {reply.choices[0].message.content}")

    prompt = "Summarise the forecast in a few words." + (" [[words:20]]" if offline else "")
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    say(f"agent (streamed): {text}")

    try:
        client.chat.completions.create(
            model=model,
            messages=[
                {
                    "role": "user",
                    "content": "One more thing." + (" [[scenario:rate_limit]]" if offline else ""),
                }
            ],
        )
    except openai.RateLimitError as exc:
        say(f"agent: rate limited ({exc.status_code}), carrying on")

    client.embeddings.create(model="text-embedding-3-small", input=text or "nothing")


CLAUDE_TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": TOOLS[0]["function"]["parameters"],
    }
]


def run_anthropic(client: Any, model: str, offline: bool, say: Any = print) -> None:
    """A Claude tool loop, then one streamed answer through the ``messages.stream()`` helper."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What is the weather in Lyon?"}]
    reply = client.messages.create(model=model, max_tokens=256, messages=messages, tools=CLAUDE_TOOLS)
    uses = [block for block in reply.content if block.type == "tool_use"]
    if uses:
        content = [block.model_dump(exclude_none=True) for block in reply.content]
        messages.append({"role": "assistant", "content": content})
        results = [
            {"type": "tool_result", "tool_use_id": use.id, "content": get_weather(**use.input)}
            for use in uses
        ]
        messages.append({"role": "user", "content": results})
        reply = client.messages.create(model=model, max_tokens=256, messages=messages, tools=CLAUDE_TOOLS)
    say(f"claude: {''.join(b.text for b in reply.content if b.type == 'text')}")

    prompt = "Say hello in five words." + (" [[words:5]]" if offline else "")
    with client.messages.stream(
        model=model, max_tokens=64, messages=[{"role": "user", "content": prompt}]
    ) as s:
        text = "".join(s.text_stream)
    say(f"claude: {text}")
