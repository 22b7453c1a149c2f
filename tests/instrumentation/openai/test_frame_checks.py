"""The suite's "who raised this?" checks judge frames by module identity, not by file path.

``git clone`` names the checkout ``agentotel`` and ``make test`` puts the venv inside it, so every SDK
frame's file name reads ``.../agentotel/.venv/lib/.../openai/_base_client.py``. A check that looks
for ``"agentotel"`` in a file name would then blame us for the SDK's own exceptions. These tests load
real modules from such paths (and one of ours from a path without the word) and run the very
helpers the SDK tests use.
"""

from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path
from types import ModuleType

import pytest
from helpers import assert_raised_outside_agentotel, frame_modules
from openai_helpers import assert_raised_by_sdk

RAISER = '''
class APIStatusError(Exception):
    """Stands for the SDK's own error."""


def request():
    raise APIStatusError("Error code: 429")
'''


def load(path: Path, name: str) -> ModuleType:
    """Import the module at ``path`` as ``name`` without registering it (the real SDK stays as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RAISER)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def raised(module: ModuleType) -> BaseException:
    with pytest.raises(Exception) as info:
        module.request()
    return info.value


def innermost_file(exc: BaseException) -> str:
    return traceback.extract_tb(exc.__traceback__)[-1].filename


@pytest.fixture
def sdk_in_agentotel_venv(tmp_path: Path) -> ModuleType:
    """``openai._base_client`` as installed in the venv of a checkout named ``agentotel``."""
    site = tmp_path / "agentotel" / ".venv" / "lib" / "python3.12" / "site-packages"
    return load(site / "openai" / "_base_client.py", "openai._base_client")


def test_sdk_error_under_a_folder_named_agentotel_is_the_sdks(sdk_in_agentotel_venv: ModuleType) -> None:
    exc = raised(sdk_in_agentotel_venv)
    assert "/agentotel/.venv/lib/python3.12/site-packages/openai/" in innermost_file(exc)
    assert frame_modules(exc) == [__name__, "openai._base_client"]
    assert_raised_by_sdk(exc)
    assert_raised_outside_agentotel(exc)


def test_our_module_is_ours_wherever_it_lives(tmp_path: Path) -> None:
    ours = load(tmp_path / "elsewhere" / "_safe.py", "agentotel._safe")
    exc = raised(ours)
    assert "agentotel" not in innermost_file(exc)
    with pytest.raises(AssertionError):
        assert_raised_outside_agentotel(exc)
    with pytest.raises(AssertionError):
        assert_raised_by_sdk(exc)


def test_an_sdk_error_must_come_through_the_sdk(tmp_path: Path) -> None:
    other = load(tmp_path / "agentotel" / "httpx" / "_client.py", "httpx._client")
    exc = raised(other)
    assert_raised_outside_agentotel(exc)
    with pytest.raises(AssertionError):
        assert_raised_by_sdk(exc)
