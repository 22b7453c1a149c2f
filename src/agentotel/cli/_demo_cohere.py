"""One Cohere chat call for ``agentotel demo`` (offline, on the fake LLM server) and
``examples/agent.py`` (offline, or online with ``CO_API_KEY``).

Plain SDK code: the span comes from the Cohere instrumentor. Offline the call is
``POST {base_url}/v2/chat`` (a ``/v1`` at the end of ``base_url`` is harmless: the fake server drops
it) and makes one CLIENT span ``chat command-r-08-2024`` with ``gen_ai.provider.name`` = ``cohere``,
6 input and 6 output tokens (Cohere's billed tokens; the fake server reports 7 more template tokens
beside them, not recorded) and a cost at Command R's shipped price.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

MODEL: Final[str] = "command-r-08-2024"
QUESTION: Final[str] = "What is the weather in Paris?"
FAKE_KEY: Final[str] = "demo-cohere-not-a-real-key"


def client(base_url: str | None) -> Any:
    """A ``cohere.ClientV2``: on the fake server at ``base_url`` with a fake key, or
    the real API with the key from ``CO_API_KEY`` (the SDK reads it) when ``base_url`` is ``None``.
    ``ImportError`` when ``cohere`` is not installed."""
    import cohere

    if base_url is None:
        return cohere.ClientV2()
    return cohere.ClientV2(api_key=FAKE_KEY, base_url=base_url.rstrip("/"))


def run(client: Any, model: str, say: Callable[[str], object]) -> None:
    """One ``chat`` call."""
    reply = client.chat(model=model, messages=[{"role": "user", "content": QUESTION}])
    say(f"cohere: {reply.message.content[0].text}")
