"""What the gateway tests share beyond their fixtures (a module of its own: ``conftest`` is a
name several test folders use, so it cannot be imported by name)."""

from __future__ import annotations

from agentotel.gateway import Upstream
from agentotel.testing import FakeLLMServer


def fake_upstreams(fake: FakeLLMServer, **extra: Upstream) -> dict[str, Upstream]:
    """The three default routes, on the fake server."""
    base = fake.base_url
    return {
        "openai": Upstream("openai", base, "openai", "openai"),
        "anthropic": Upstream("anthropic", base, "anthropic"),
        "gemini": Upstream("gemini", base, "gemini"),
        **extra,
    }
