"""One Mistral chat call for ``agentotel demo`` (offline, on the fake LLM server) and
``examples/agent.py`` (offline, or online with ``MISTRAL_API_KEY``).

Plain SDK code: the span comes from the Mistral instrumentor. Offline the call is
``POST {base_url}/mistral/v1/chat/completions`` (the fake server serves Mistral's wire format under
``/mistral``: its paths are OpenAI's) and makes one CLIENT span ``chat mistral-small-latest`` with
``gen_ai.provider.name`` = ``mistral_ai``, 6 input and 6 output tokens.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

MODEL: Final[str] = "mistral-small-latest"
QUESTION: Final[str] = "What is the weather in Paris?"
FAKE_KEY: Final[str] = "demo-mistral-not-a-real-key"


def client(base_url: str | None) -> Any:
    """A ``Mistral`` client: on the fake server at ``base_url`` (its Mistral routes) with a fake key,
    or the real API with the key from ``MISTRAL_API_KEY`` when ``base_url`` is ``None``.
    ``ImportError`` when ``mistralai`` (2.0 or later) is not installed."""
    from mistralai.client import Mistral

    if base_url is None:
        return Mistral(api_key=os.environ.get("MISTRAL_API_KEY"))
    return Mistral(api_key=FAKE_KEY, server_url=f"{base_url.rstrip('/')}/mistral")


def run(client: Any, model: str, say: Callable[[str], object]) -> None:
    """One ``chat.complete`` call."""
    reply = client.chat.complete(model=model, messages=[{"role": "user", "content": QUESTION}])
    say(f"mistral: {reply.choices[0].message.content}")
