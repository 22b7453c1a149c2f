"""Instrumenting imports no SDK: each is patched when the app imports it (post-import hooks).

Each test runs a fresh interpreter, the only place where an SDK is not already imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BIN = Path(sys.executable).parent
OTEL_INSTRUMENT = BIN / "opentelemetry-instrument"

SDKS_IMPORTED = (
    "import sys; print('anthropic' in sys.modules, 'openai' in sys.modules,"
    " 'langgraph' in sys.modules, 'mcp' in sys.modules)"
)

# Instrument (or not) first, then import the SDKs and make one real call each against the fake
# server; prints whether the SDKs were imported before, the answers, and the span names.
_APP = """
import sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from agentotel.instrumentation.anthropic import AnthropicInstrumentor
from agentotel.instrumentation.openai import OpenAIInstrumentor
from agentotel.testing import FakeLLMServer

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
{steps}
print('anthropic' in sys.modules or 'openai' in sys.modules)

import anthropic
import openai
import wrapt
from openai.resources.chat.completions.completions import Completions

with FakeLLMServer() as server:
    gpt = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)
    reply = gpt.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
    print(reply.choices[0].message.content)
    claude = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0)
    message = claude.messages.create(
        model="claude-opus-5", max_tokens=32, messages=[{{"role": "user", "content": "hi"}}]
    )
    print(message.content[0].text)
create = vars(Completions)["create"]
layers = 0
while isinstance(create, wrapt.FunctionWrapper):
    layers, create = layers + 1, create.__wrapped__
print("wrapper layers:", layers)
print([span.name for span in exporter.get_finished_spans()])
"""

_ANSWER = "Hello from the fake LLM server."


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    return env


def _python(*argv: str, instrument_command: bool = False) -> list[str]:
    command = [str(OTEL_INSTRUMENT), "python"] if instrument_command else [sys.executable]
    proc = subprocess.run(
        [*command, *argv], env=_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _app(*steps: str) -> list[str]:
    return _python("-c", _APP.format(steps="\n".join(steps)))


def test_opentelemetry_instrument_imports_no_sdk_the_app_does_not_import() -> None:
    on = (
        "from agentotel.instrumentation.anthropic import AnthropicInstrumentor as A; "
        "from agentotel.instrumentation.langchain import LangChainInstrumentor as L; "
        "from agentotel.instrumentation.mcp import MCPInstrumentor as M; "
        "from agentotel.instrumentation.openai import OpenAIInstrumentor as O; "
        "print([c().is_instrumented_by_opentelemetry for c in (A, L, M, O)])"
    )

    assert _python("-c", f"{SDKS_IMPORTED}; {on}; {SDKS_IMPORTED}", instrument_command=True) == [
        "False False False False",
        "[True, True, True, True]",
        "False False False False",
    ]


def test_sdks_imported_after_instrument_get_their_spans() -> None:
    out = _app(
        "OpenAIInstrumentor().instrument(tracer_provider=provider)",
        "AnthropicInstrumentor().instrument(tracer_provider=provider)",
    )

    assert out == [
        "False",
        _ANSWER,
        _ANSWER,
        "wrapper layers: 1",
        "['chat gpt-4o-mini', 'chat claude-opus-5']",
    ]


def test_uninstrument_before_the_sdk_is_imported_leaves_it_unpatched() -> None:
    out = _app(
        "OpenAIInstrumentor().instrument(tracer_provider=provider)",
        "AnthropicInstrumentor().instrument(tracer_provider=provider)",
        "OpenAIInstrumentor().uninstrument()",
        "AnthropicInstrumentor().uninstrument()",
    )

    assert out == ["False", _ANSWER, _ANSWER, "wrapper layers: 0", "[]"]


def test_instrument_again_before_the_sdk_is_imported_patches_it_once() -> None:
    cycle = [
        "OpenAIInstrumentor().instrument(tracer_provider=provider)",
        "OpenAIInstrumentor().uninstrument()",
    ]

    out = _app(*cycle, *cycle, "OpenAIInstrumentor().instrument(tracer_provider=provider)")

    assert out == ["False", _ANSWER, _ANSWER, "wrapper layers: 1", "['chat gpt-4o-mini']"]


def test_an_error_while_patching_an_sdk_never_breaks_the_apps_import() -> None:
    script = textwrap.dedent(
        """
        import sys
        from agentotel.instrumentation._base import Patch
        from agentotel.instrumentation.openai import OpenAIInstrumentor

        def broken(telemetry):
            raise RuntimeError("bug in a wrapper factory")

        OpenAIInstrumentor.patches = (
            Patch("openai.resources.embeddings", "Embeddings.create", broken),
        )
        OpenAIInstrumentor().instrument()
        import openai
        from openai.resources.embeddings import Embeddings
        print("imported", type(vars(Embeddings)["create"]).__name__)
        """
    )

    assert _python("-c", script) == ["imported function"]
