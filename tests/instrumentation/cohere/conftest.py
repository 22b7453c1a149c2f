"""Fixtures of the Cohere tests: the instrumentor on ``cap``, ``ClientV2`` and ``AsyncClientV2`` on
the fake server. Without the ``cohere`` SDK (a nox row of other SDKs) the folder is not collected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import instrumented, sdk_installed

from agentotel.testing import FakeLLMServer
from agentotel.testing._capture import TelemetryCapture

if not sdk_installed("cohere"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def co_instrumented(cap: TelemetryCapture) -> Iterator[TelemetryCapture]:
    """The Cohere instrumentor active on ``cap``'s providers."""
    from agentotel.instrumentation.cohere import CohereInstrumentor

    with instrumented(cap, CohereInstrumentor):
        yield cap


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, fresh_fake_llm: FakeLLMServer) -> Any:
    """``ClientV2`` or ``AsyncClientV2`` on the fake server (ids counted from 1, requests cleared):
    one test body for both (see ``helpers.resolve``)."""
    from cohere_helpers import async_client, sync_client

    fresh_fake_llm.clear()
    return sync_client(fresh_fake_llm) if request.param == "sync" else async_client(fresh_fake_llm)
