"""Fixtures of the audit tests: no ``AGENTOTEL_AUDIT_*`` variable of the environment applies."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_audit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AGENTOTEL_AUDIT_"):
            monkeypatch.delenv(name)
