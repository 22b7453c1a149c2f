"""One Ollama chat call for ``agentotel demo`` (offline, on the fake LLM server) and
``examples/agent.py`` (online: a running Ollama server at ``OLLAMA_HOST``, ``127.0.0.1:11434`` by
default, with the model pulled; ``OLLAMA_API_KEY`` for Ollama's cloud).

Plain SDK code: the span comes from the Ollama instrumentor. Offline the call is
``POST {base_url}/api/chat`` (Ollama's own path, served by the fake server) and makes one CLIENT
span ``chat llama3.2`` with ``gen_ai.provider.name`` = ``ollama``, 6 input and 6 output tokens
(``prompt_eval_count`` / ``eval_count``) and the fake server's timings as ``ollama.*`` attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

MODEL: Final[str] = "llama3.2"
QUESTION: Final[str] = "What is the weather in Paris?"
FAKE_KEY: Final[str] = "demo-ollama-not-a-real-key"


def client(base_url: str | None) -> Any:
    """An ``ollama.Client``: on the fake server at ``base_url`` with a fake bearer key, or the
    Ollama server of ``OLLAMA_HOST`` (the SDK's default host without it) when ``base_url`` is
    ``None``. ``ImportError`` when ``ollama`` is not installed."""
    from ollama import Client

    if base_url is None:
        return Client()
    return Client(host=base_url, headers={"Authorization": f"Bearer {FAKE_KEY}"})


def run(client: Any, model: str, say: Callable[[str], object]) -> None:
    """One ``chat`` call."""
    reply = client.chat(model=model, messages=[{"role": "user", "content": QUESTION}])
    say(f"ollama: {reply.message.content}")
