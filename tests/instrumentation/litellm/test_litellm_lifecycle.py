"""The LiteLLM patch table: every patch point exists in the installed ``litellm``, is wrapped by
``instrument()`` and given back by ``uninstrument()``."""

from __future__ import annotations

import litellm
import wrapt

from agentotel.instrumentation.litellm import LiteLLMInstrumentor
from agentotel.testing._capture import TelemetryCapture


def test_every_patch_point_exists() -> None:
    patches = LiteLLMInstrumentor().patches
    assert sorted(f"{p.module}:{p.name}" for p in patches) == [
        "litellm:Router.acompletion",
        "litellm:Router.aembedding",
        "litellm:Router.completion",
        "litellm:Router.embedding",
        "litellm:acompletion",
        "litellm:aembedding",
        "litellm:completion",
        "litellm:embedding",
    ]
    for patch in patches:
        assert patch.expected()
        assert patch.owner() is not None, patch.name


def test_instrument_wraps_and_uninstrument_restores() -> None:
    names = ("completion", "acompletion", "embedding", "aembedding")
    functions = {name: getattr(litellm, name) for name in names}
    methods = {name: getattr(litellm.Router, name) for name in names}
    instrumentor = LiteLLMInstrumentor()
    cap = TelemetryCapture()
    try:
        instrumentor.instrument(**cap.providers)
        for name in names:
            assert getattr(litellm, name).__wrapped__ is functions[name]
            assert isinstance(getattr(litellm, name), wrapt.FunctionWrapper)
            # litellm's Router class hands class-level reads and patches to its core's class.
            assert getattr(litellm.Router, name).__wrapped__ is methods[name]
    finally:
        instrumentor.uninstrument()
        cap.shutdown()
    for name in names:
        assert getattr(litellm, name) is functions[name]
        assert getattr(litellm.Router, name) is methods[name]
