"""The run store on disk: folder names, atomic writes, retention, and reading runs back.

::

    <runs dir>/
      20261121T101502.123Z_4bf92f3577b34da6/     run id: root start (UTC) + trace id prefix
        events.jsonl                              one line per ended span, in end order
        summary.json                              replaced atomically (temp file + rename)
        artifacts/                                agentotel.save_artifact(name, data)

Run ids sort by time, so "newest" is "greatest name". Only folders named like a run id are ever
pruned or listed; anything else in the runs dir is left alone. What the store creates is private
to its user, like the audit log: folders 0700, files 0600 (a runs dir that already exists keeps
its mode).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentotel import config

DEFAULT_RUNS_DIR = ".agentotel/runs"
DEFAULT_KEEP = 100
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_IDLE_GAP = 30
"""Seconds without a span after which an implicit run is over (``AGENTOTEL_RUNS_IDLE_GAP``)."""
FOLDER_MODE = 0o700
FILE_MODE = 0o600
EVENTS = "events.jsonl"
SUMMARY = "summary.json"
ARTIFACTS = "artifacts"
STALE_SECONDS = 3600.0
"""A run another process left ``running`` is prunable once untouched for this long."""

RUN_ID = re.compile(r"^\d{8}T\d{6}\.\d{3}Z_[0-9a-f]{16}(?:-\d+)?$")
_HEX = re.compile(r"^[0-9a-f]{1,32}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,199}$")


class RunStoreError(Exception):
    """A run that cannot be found or read; the message is one line, fit for the CLI."""


# --- locations --------------------------------------------------------------------------------
def runs_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """``AGENTOTEL_RUNS_DIR``, or ``.agentotel/runs`` in the current directory."""
    env = os.environ if environ is None else environ
    raw = env.get(config.RUNS_DIR, "").strip()
    return Path(raw or DEFAULT_RUNS_DIR)


def usable_runs_dir(path: Path) -> Path:
    """``path``, created if needed; :class:`~agentotel.config.ConfigError` if it cannot be written."""
    if path.exists() and not path.is_dir():
        raise config.ConfigError(f"{config.RUNS_DIR}={str(path)!r} is not usable: not a directory")
    try:
        os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)
    except OSError as exc:
        raise config.ConfigError(f"{config.RUNS_DIR}={str(path)!r} is not usable: {exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise config.ConfigError(f"{config.RUNS_DIR}={str(path)!r} is not usable: not writable")
    return path


def run_id(start_unix_nano: int, trace_id: int) -> str:
    """``20261121T101502.123Z_4bf92f3577b34da6``: the root's UTC start and the trace id's first half."""
    moment = datetime.fromtimestamp(start_unix_nano // 1_000_000_000, tz=timezone.utc)
    stamp = moment.strftime("%Y%m%dT%H%M%S.") + f"{start_unix_nano // 1_000_000 % 1000:03d}Z"
    return f"{stamp}_{trace_id:032x}"[:-16]


def safe_name(name: str) -> str:
    """``name`` if it is a plain file name (no folder, no leading dot); ValueError otherwise."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or name.strip() != name:
        raise ValueError(
            f"artifact name {name!r} is not allowed: use letters, digits, '_', '-', '.' and spaces, "
            "not starting with '.', '-' or a space (at most 200 characters)"
        )
    return name


# --- writing ----------------------------------------------------------------------------------
def dump_json(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def event_line(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


def make_folder(path: Path) -> None:
    """``path`` and its missing parents, 0700."""
    os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)


def make_run_folder(folder: Path) -> None:
    """A run's folder and its ``artifacts/``, 0700 (``os.makedirs`` gives only the last folder its mode)."""
    make_folder(folder)
    make_folder(folder / ARTIFACTS)


def append_lines(path: Path, lines: Iterable[str]) -> None:
    """Append whole lines (one write, so a reader following the file sees complete lines); the
    file is created 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write("".join(lines))


def prune(root: Path, keep: int, protected: set[str], now: float | None = None) -> list[str]:
    """Delete the runs past the newest ``keep``; never a run in ``protected`` (live in this process)
    nor one still ``running`` in another process (touched within the last hour). Returns the
    deleted run ids."""
    now = time.time() if now is None else now
    removed: list[str] = []
    for rid in list_run_ids(root)[keep:]:
        folder = root / rid
        if rid in protected or _live_elsewhere(folder, now):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(rid)
    return removed


def _live_elsewhere(folder: Path, now: float) -> bool:
    try:
        summary = json.loads((folder / SUMMARY).read_bytes())
    except (OSError, ValueError):
        summary = None
    if isinstance(summary, dict) and summary.get("status") != "running":
        return False
    try:
        touched = max(p.stat().st_mtime for p in (folder, folder / EVENTS) if p.exists())
    except (OSError, ValueError):
        return False
    return now - touched < STALE_SECONDS


# --- reading ----------------------------------------------------------------------------------
def list_run_ids(root: Path) -> list[str]:
    """Run ids in ``root``, newest first."""
    try:
        names = [entry.name for entry in os.scandir(root) if entry.is_dir() and RUN_ID.match(entry.name)]
    except FileNotFoundError:
        raise RunStoreError(f"no runs directory at {root} (set {config.RUNS_DIR} or pass --dir)") from None
    except OSError as exc:
        raise RunStoreError(f"cannot read {root}: {exc.strerror or exc}") from None
    return sorted(names, reverse=True)


def read_summary(folder: Path) -> dict[str, Any] | None:
    """The run's summary; None before the writer made one."""
    path = folder / SUMMARY
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunStoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RunStoreError(f"cannot read {path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise RunStoreError(f"cannot read {path}: not a JSON object")
    return document


def parse_event(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise RunStoreError(f"cannot read {path} line {number}: not valid JSON ({exc})") from None
    if not isinstance(event, dict):
        raise RunStoreError(f"cannot read {path} line {number}: not a JSON object")
    return event


def read_events(folder: Path) -> list[dict[str, Any]]:
    """The run's span events, in end order (none before the first span ended)."""
    path = folder / EVENTS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [parse_event(path, n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def find_run(root: Path, query: str) -> Path:
    """The folder of the one run whose run id or one of whose trace ids starts with ``query``."""
    wanted = query.strip().lower()
    ids = list_run_ids(root)
    exact = [rid for rid in ids if rid.lower() == wanted]
    if exact:
        return root / exact[0]
    matches = [rid for rid in ids if rid.lower().startswith(wanted) or _trace_matches(root, rid, wanted)]
    if not matches:
        raise RunStoreError(f"no run matches {query!r} in {root}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise RunStoreError(f"{query!r} matches {len(matches)} runs ({shown}); give more of the id")
    return root / matches[0]


def _trace_matches(root: Path, rid: str, wanted: str) -> bool:
    """The run's first trace id (half of it is in the run id) or another of its traces (an
    implicit run's, in its summary) starts with ``wanted``."""
    if not wanted or not _HEX.match(wanted):
        return False
    prefix = rid.partition("_")[2].partition("-")[0]
    if prefix.startswith(wanted):
        return True
    try:
        summary = read_summary(root / rid) or {}
    except RunStoreError:
        return False
    traces = summary.get("trace_ids")
    ids = [*traces] if isinstance(traces, list) else []
    ids.append(summary.get("trace_id"))
    return any(isinstance(t, str) and t.startswith(wanted) for t in ids)
