"""The SDK-major matrix: the tests that drive ``openai`` or ``anthropic``, on older majors.

``make test`` runs the whole suite in ``.venv`` on the newest ``openai`` 3.x and ``anthropic`` 2.x,
then ``nox -s majors`` runs the SDK tests once per row below, each in its own virtualenv under
``.nox/`` (made with uv). The newest release of each supported major is whatever the registry
serves for the range at install time, so a new release is tested by the next run; ``floor`` pins
the oldest versions the instrumentors support.

    .venv/bin/nox -s majors                    # every row
    .venv/bin/nox -s "majors(openai2)"         # one row
    .venv/bin/nox -s majors -- -k stream       # extra pytest arguments
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

EXTRAS = ".[test,cli,prometheus,otlp,mcp,langchain]"

# Every test module that drives the openai or anthropic SDK (the rest of the suite does not
# depend on their version and runs once, in .venv). Other providers' folders are not here: their
# SDKs may need newer openai/anthropic majors (litellm needs openai>=2.20).
SDK_TESTS = [
    "tests/instrumentation/openai",
    "tests/instrumentation/anthropic",
    "tests/instrumentation/mcp",
    "tests/instrumentation/langchain",
    *sorted(str(p) for p in Path("tests/instrumentation").glob("test_*.py")),  # across providers
    "tests/agent",
    "tests/integration",
    "tests/endpoints",
    "tests/metrics/test_cost.py",
    "tests/cli/test_top_cli.py",
    # The benchmark's smoke tests run in .venv; benchmarks/majors.py measures each openai major.
    "--ignore=tests/integration/test_benchmark_smoke.py",
]

# The floor row runs the instrumentors' tests only: the fake server's, the example's and the
# benchmark's tests use the Responses API and other calls openai 1.40 predates.
INSTRUMENTOR_TESTS = [path for path in SDK_TESTS if path.startswith("tests/instrumentation/")]

_VERSIONS = (
    "from importlib.metadata import version, PackageNotFoundError\n"
    "for name in ('openai', 'anthropic', 'httpx', 'httpx2', 'google-genai', 'botocore',\n"
    "             'llama-index-core'):\n"
    "    try: print(name, version(name))\n"
    "    except PackageNotFoundError: pass"
)

PROVIDER_TESTS = [
    "tests/instrumentation/google_genai",
    "tests/instrumentation/bedrock",
    "tests/instrumentation/cohere",
    "tests/instrumentation/mistralai",
]


def conventions_rows(workload: str) -> list[str]:
    """The conventions-table test of one workload, in both modes (tests/conventions)."""
    test = "tests/conventions/test_conventions_table.py::test_each_instrumentor_records_its_pinned_row"
    return [f"{test}[{workload}-{mode}]" for mode in ("v1.41.1", "latest")]


LLAMA_INDEX_TESTS = [
    "tests/instrumentation/llama_index",
    *sorted(str(p) for p in Path("tests/instrumentation").glob("test_*.py")),  # across providers
    *conventions_rows("llama_index"),
]

CREWAI_TESTS = [
    "tests/instrumentation/crewai",
    *conventions_rows("crewai"),
    *sorted(str(p) for p in Path("tests/instrumentation").glob("test_*.py")),  # across providers
    # These two expect the MCP and LangChain instrumentors' SDKs, which this row lacks (mcp<2).
    "--deselect",
    "tests/instrumentation/test_holder.py::test_agentotel_instrument_hands_one_holder_to_every_instrumentor_and_the_agent_api",
    "--deselect",
    "tests/instrumentation/test_lifecycle.py::test_registry_available_lists_every_instrumentor",
]

ROWS: dict[str, tuple[list[str], list[str]]] = {
    # id: (the requirements of the row, its tests); the newest 3.x / 2.x are .venv's
    "openai2": (["openai>=2,<3", "anthropic>=1,<2"], SDK_TESTS),
    "openai1": (["openai>=1.40,<2", "anthropic>=0.40,<1"], SDK_TESTS),
    # The oldest supported versions; openai<1.55.3 passes httpx a `proxies` argument httpx 0.28 removed.
    "floor": (["openai==1.40.0", "anthropic==0.40.0", "httpx<0.28"], INSTRUMENTOR_TESTS),
    # The other providers' oldest supported versions (litellm's floor, 1.110, is close to its newest;
    # mistralai 2.9.2 is 2.x, where the SDK's own tracing is on by default).
    "providers-floor": (
        [
            "google-genai==1.10.0",
            "boto3==1.34.116",
            "botocore==1.34.116",
            "cohere==5.16.0",
            "mistralai==2.9.2",
            "openai",
            "anthropic",
        ],
        PROVIDER_TESTS,
    ),
    # groq 0.9 passes httpx the `proxies` argument httpx 0.28 removed; ollama 0.4.0 pins httpx<0.28.
    "httpx027-floor": (
        ["groq==0.9.0", "ollama==0.4.0", "httpx<0.28", "openai", "anthropic"],
        ["tests/instrumentation/groq", "tests/instrumentation/ollama"],
    ),
    # LlamaIndex's OpenAI LLM class needs openai<3 (not in .venv): its tests and the cross-provider
    # ones on the newest llama-index-core 0.14.x, and its tests on the oldest supported releases
    # (core and its workflow engine).
    "llama_index": (
        ["llama-index-core>=0.14.10,<0.15", "llama-index-llms-openai", "anthropic"],
        LLAMA_INDEX_TESTS,
    ),
    "llama_index-floor": (
        ["llama-index-core==0.14.10", "llama-index-workflows==2.16.0", "llama-index-llms-openai<0.6"],
        ["tests/instrumentation/llama_index"],
    ),
    # CrewAI needs mcp<2 and openai<3 (not in .venv): its tests (native OpenAI and Anthropic LLM
    # classes, LiteLLM) and the cross-provider ones on the newest crewai 1.x, without the mcp extra.
    "crewai": (["crewai>=1.15.0,<2", "litellm>=1.110,<2", "anthropic>=2,<3"], CREWAI_TESTS),
    # CrewAI's oldest supported release: its tests (without LiteLLM: crewai 1.15.0 pins a
    # pydantic-settings older than the one litellm>=1.110, our floor, needs).
    "crewai-floor": (
        ["crewai==1.15.0", "anthropic>=2,<3"],
        ["tests/instrumentation/crewai"],
    ),
}

# Rows whose SDK conflicts with an extra of EXTRAS install these instead.
# crewai 1.15.0 pins opentelemetry-sdk 1.42, older than the prometheus exporter of our extra needs.
ROW_EXTRAS = {"crewai": ".[test,cli,prometheus,otlp]", "crewai-floor": ".[test,cli,otlp]"}


@nox.session
@nox.parametrize("row", list(ROWS), ids=list(ROWS))
def majors(session: nox.Session, row: str) -> None:
    """The SDK tests on one row of older SDK versions."""
    requirements, tests = ROWS[row]
    session.install("-e", ROW_EXTRAS.get(row, EXTRAS), *requirements)
    session.run("python", "-c", _VERSIONS)
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "-n",
        "2",
        "--dist",
        "loadfile",
        "-p",
        "no:cacheprovider",
        *tests,
        *session.posargs,
    )
