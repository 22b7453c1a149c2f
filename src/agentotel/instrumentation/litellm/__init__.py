"""LiteLLM instrumentor (entry point ``agentotel_litellm``).

Usage::

    from agentotel.instrumentation.litellm import LiteLLMInstrumentor
    LiteLLMInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

or zero-code with ``opentelemetry-instrument python app.py``.

Instrumented: ``litellm.completion`` / ``acompletion`` (stream and non-stream) and
``litellm.embedding`` / ``aembedding``, and through them every ``Router`` call (the router calls
them once per attempt, retries and fallbacks included: one LLM span per attempt).

One LLM span per model call, owned by this layer: while it is open, the ``openai`` (and
``anthropic``) instrumentors make no span of their own for the SDK call LiteLLM makes inside it
(the engine's one-LLM-span rule, ``LLM_CALL_KEY``), so the tokens are counted once.
``gen_ai.provider.name`` is the provider LiteLLM routed to (its names mapped to the conventions'),
``gen_ai.request.model`` the model without LiteLLM's ``provider/`` prefix.

agentotel turns on no LiteLLM callback. Environment: as every agentotel instrumentor
(``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ...);
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=agentotel_litellm`` disables it.
"""

from __future__ import annotations

from typing import Any

from agentotel.instrumentation._base import AgentotelInstrumentor, Patch
from agentotel.instrumentation.litellm.package import _instruments


def _p() -> Any:
    """The wrappers' module, imported only when ``litellm`` is (it imports ``litellm``)."""
    from agentotel.instrumentation.litellm import patch

    return patch


# The package's attributes, which the app and the Router look up at call time; not
# ``litellm.main``'s, which ``acompletion`` calls inside (it would be a second span there).
_PATCHES = (
    Patch("litellm", "completion", lambda t, b: _p().completion(t, b, False)),
    Patch("litellm", "acompletion", lambda t, b: _p().completion(t, b, True)),
    Patch("litellm", "embedding", lambda t, b: _p().embedding(t, b, False)),
    Patch("litellm", "aembedding", lambda t, b: _p().embedding(t, b, True)),
    # A step span around each Router call: the parent of its attempts' LLM spans.
    Patch("litellm", "Router.completion", lambda t, b: _p().router(t, b, False)),
    Patch("litellm", "Router.acompletion", lambda t, b: _p().router(t, b, True)),
    Patch("litellm", "Router.embedding", lambda t, b: _p().router(t, b, False)),
    Patch("litellm", "Router.aembedding", lambda t, b: _p().router(t, b, True)),
)


class LiteLLMInstrumentor(AgentotelInstrumentor):
    """Spans and metrics for ``litellm`` (see the module docstring)."""

    component = "litellm"
    requirements = _instruments
    patches = _PATCHES


__all__ = ["LiteLLMInstrumentor"]
