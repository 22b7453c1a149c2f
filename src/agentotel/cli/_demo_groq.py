"""One Groq chat call for ``agentotel demo`` (offline, on the fake LLM server) and
``examples/agent.py`` (offline, or online with ``GROQ_API_KEY``).

Plain SDK code: the span comes from the Groq instrumentor. Offline the call is
``POST {base_url}/openai/v1/chat/completions`` (Groq's own path, which the fake server serves in
Groq's format) and makes one CLIENT span ``chat llama-3.3-70b-versatile`` with
``gen_ai.provider.name`` = ``groq``, 6 input and 6 output tokens, ``groq.usage.queue_time`` and
``groq.request.id``, and its cost (``llama-3.3-70b-versatile`` is priced: docs/cost.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

MODEL: Final[str] = "llama-3.3-70b-versatile"
QUESTION: Final[str] = "What is the weather in Paris?"
FAKE_KEY: Final[str] = "demo-groq-not-a-real-key"


def client(base_url: str | None) -> Any:
    """A ``Groq`` client: on the fake server at ``base_url`` with a fake key, or the real API with
    the key from ``GROQ_API_KEY`` (the SDK reads it) when ``base_url`` is ``None``.
    ``ImportError`` when ``groq`` is not installed."""
    from groq import Groq

    if base_url is None:
        return Groq()
    return Groq(api_key=FAKE_KEY, base_url=base_url.rstrip("/"))


def run(client: Any, model: str, say: Callable[[str], object]) -> None:
    """One ``chat.completions.create`` call."""
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    say(f"groq: {reply.choices[0].message.content}")
