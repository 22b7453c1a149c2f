"""Checkpoints: the chain's seq and hash, published away from the audit file, so its end is known.

A hash chain proves every record before its last one, never that nothing came after: records cut
from the end, or an emptied file, leave a chain that verifies. A checkpoint ``{seq, hash, time}``
(with ``hmac`` of its canonical JSON when the log has a key) written every N records, every T
seconds and at shut-down to a second file and emitted as an OTel log record
(``agentotel.audit.checkpoint``) is an anchor: ``verify(..., anchors=...)`` fails for a log that no
longer holds the anchor's record with that hash. :func:`load_anchors` reads the anchor file, and
the JSON lines a Collector's ``file`` exporter writes (OTLP JSON), so the copy kept off the machine
can be checked as it is.
"""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Any

from agentotel import semconv
from agentotel.processors.audit._chain import Hasher, canonical
from agentotel.processors.audit._derive import rfc3339
from agentotel.processors.audit._verify import Anchor


def checkpoint(seq: int, digest: str, time_ns: int, hasher: Hasher) -> dict[str, Any]:
    """The checkpoint for record ``seq`` whose hash is ``digest``, signed when ``hasher`` has a key."""
    fields: dict[str, Any] = {"seq": seq, "hash": digest, "time": rfc3339(time_ns)}
    if hasher.keyed:
        fields["hmac"] = hasher.digest(canonical(fields))
    return fields


class AnchorFile:
    """The checkpoints' file: canonical JSON lines, append-only, created 0600."""

    def __init__(self, path: str, *, sync: bool) -> None:
        self.path = path
        self._sync = sync
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def write(self, fields: dict[str, Any]) -> None:
        os.write(self._fd, canonical(fields) + b"\n")
        if self._sync:
            os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def parse_anchor(text: str) -> Anchor:
    """``SEQ:HASH`` as an :class:`Anchor`; ``ValueError`` naming the expected form otherwise."""
    seq, _, digest = text.partition(":")
    if not (seq.strip().isdigit() and len(digest.strip()) == 64):
        raise ValueError(f"{text!r} is not an anchor: expected SEQ:HASH (a seq and a 64-digit hex hash)")
    return Anchor(int(seq), digest.strip().lower())


def load_anchors(path: str | os.PathLike[str], key: bytes | None) -> list[Anchor]:
    """The anchors of a checkpoint file: JSON lines with ``seq`` and ``hash`` (the anchor file), or
    OTLP JSON lines (a Collector's ``file`` exporter) holding ``agentotel.audit.checkpoint`` events.

    With ``key``, each checkpoint's ``hmac`` must match. Raises ``ValueError`` naming the file and
    line of a checkpoint that is malformed or does not match, ``OSError`` for an unreadable file.
    """
    hasher = Hasher(key)
    anchors: list[Anchor] = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        where = f"{os.fspath(path)} line {number}"
        try:
            document = json.loads(line)
        except ValueError:
            document = None
        found = (
            _otlp_checkpoints(document)
            if isinstance(document, dict) and "resourceLogs" in document
            else [document]
        )
        for fields in found:
            anchors.append(_anchor(fields, hasher, where))
    return anchors


def _anchor(fields: Any, hasher: Hasher, where: str) -> Anchor:
    if not (
        isinstance(fields, dict)
        and isinstance(fields.get("seq"), int)
        and isinstance(fields.get("hash"), str)
    ):
        raise ValueError(f"{where}: not a checkpoint (expected JSON with seq and hash)")
    if hasher.keyed:
        claimed = fields.pop("hmac", None)
        if not isinstance(claimed, str):
            raise ValueError(f"{where}: the anchor has no hmac, and the log has a key")
        if not hmac.compare_digest(hasher.digest(canonical(fields)), claimed):
            raise ValueError(
                f"{where}: the anchor's hmac does not match (forged, or signed with another key)"
            )
    return Anchor(fields["seq"], fields["hash"])


def _otlp_checkpoints(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The bodies of the ``agentotel.audit.checkpoint`` log records of one OTLP JSON request."""
    found = []
    for resource in document.get("resourceLogs") or ():
        for scope in resource.get("scopeLogs") or ():
            for record in scope.get("logRecords") or ():
                if record.get("eventName") != semconv.EVENT_AUDIT_CHECKPOINT:
                    continue
                values = ((record.get("body") or {}).get("kvlistValue") or {}).get("values") or ()
                found.append({v.get("key"): _otlp_value(v.get("value") or {}) for v in values})
    return found


def _otlp_value(value: dict[str, Any]) -> Any:
    if "intValue" in value:  # a string in OTLP JSON (64-bit)
        return int(value["intValue"])
    return value.get("stringValue")
