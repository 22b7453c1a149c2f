"""The audit log's hash chain: canonical JSON, record hashes, and verification of a set of files.

**Canonical JSON** is sorted keys, no whitespace, UTF-8 (non-ASCII kept as is) and no NaN. A
record's ``hash`` is the hex SHA-256 (HMAC-SHA-256 with a key) of the canonical JSON of the record
without ``hash``; its ``prev_hash`` is the previous record's ``hash`` (:data:`GENESIS`, 64 zeros,
for the first record of a chain), so each record commits to every record before it. A line on
disk is that canonical JSON with ``"hash"`` appended as the last member, and a newline; a line
whose bytes are anything else (whitespace, escapes, duplicate keys, CRLF) does not verify.

**Gaps** are chained ``audit_gap`` records saying what is missing and why (``metadata.reason``):

- ``queue_full`` (``dropped``: how many records the ``drop`` policy lost just before it);
- ``corrupt_tail`` (``discarded_bytes``): the previous file ended with a torn line (no newline,
  and not a whole JSON object: a crash mid-write); the chain goes on from its last record in a new
  file. A last line without newline that is a whole JSON object is judged as a record: kept when
  it verifies and follows the record before it, tampering (``chain_broken``) otherwise;
- ``retention`` (``removed_through_seq``): rotation deleted the oldest files, and with them every
  record up to that seq;
- ``chain_broken`` (``discarded_bytes``): when the writer started, the previous file ended with
  complete lines that do not verify (edited or forged records); the chain goes on from its last
  verified record in a new file;
- ``file_deleted`` (``lost_from_seq``, ``lost_through_seq``): the file being written was deleted
  or replaced, with those records.

The last two are evidence of tampering: :func:`verify` fails on them unless ``accept_gaps``.

How a set of files is checked is in :mod:`._verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from json import encoder as _json_encoder
from pathlib import Path
from typing import Any, Final

GENESIS: Final = "0" * 64
"""``prev_hash`` of the first record of a chain."""

GAP_QUEUE_FULL: Final = "queue_full"
GAP_CORRUPT_TAIL: Final = "corrupt_tail"
GAP_RETENTION: Final = "retention"
GAP_CHAIN_BROKEN: Final = "chain_broken"
GAP_FILE_DELETED: Final = "file_deleted"
EVENT_GAP: Final = "audit_gap"
ACCEPT_HINT: Final = "--accept-gaps accepts it"
NOT_CANONICAL: Final = (
    "the line is not the canonical JSON of its record (whitespace, key order, escapes or line end changed)"
)

_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The C encoder behind json.dumps, called directly: the Python layers above it cost as much again.
_make_c_encoder: Callable[..., Any] | None = getattr(_json_encoder, "c_make_encoder", None)
_C_ENCODER: Final = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _ENCODER.default, _json_encoder.encode_basestring, None, ":", ",", True, False, False
    )
)
_ROTATED = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)$")


def canonical(record: Mapping[str, Any]) -> bytes:
    """The canonical JSON of ``record``: sorted keys, no whitespace, UTF-8."""
    if _C_ENCODER is not None and type(record) is dict:
        return "".join(_C_ENCODER(record, 0)).encode("utf-8")
    return _ENCODER.encode(record).encode("utf-8")


class Hasher:
    """SHA-256, or HMAC-SHA-256 when given a key (the key is kept only in memory)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or None

    @property
    def keyed(self) -> bool:
        """True for HMAC-SHA-256."""
        return self._key is not None

    @property
    def name(self) -> str:
        return "HMAC-SHA-256" if self._key is not None else "SHA-256"

    def digest(self, data: bytes) -> str:
        """The hex hash of ``data``."""
        if self._key is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()


def seal(fields: Mapping[str, Any], hasher: Hasher) -> tuple[bytes, str]:
    """The line for ``fields`` (a record with ``seq`` and ``prev_hash``, without ``hash``) and its hash."""
    body = canonical(fields)
    digest = hasher.digest(body)
    return body[:-1] + b',"hash":"' + digest.encode("ascii") + b'"}\n', digest


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return record


def parse_line(raw: bytes, hasher: Hasher) -> tuple[dict[str, Any] | None, str]:
    """``(record, "")`` for a line that is exactly a record's canonical line and whose hash
    verifies, else ``(None, why)``."""
    if not raw.endswith(b"\n"):
        return None, "incomplete record (truncated mid-line)"
    try:
        record = json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        return None, f"duplicate key {exc.args[0]!r} in the record"
    except ValueError:
        return None, "not a JSON record"
    if not isinstance(record, dict):
        return None, "not a JSON record"
    claimed = record.get("hash")
    seq = record.get("seq")
    if not (isinstance(claimed, str) and isinstance(seq, int) and isinstance(record.get("prev_hash"), str)):
        return None, "not an audit record (seq, prev_hash or hash missing)"
    try:
        body = canonical({k: v for k, v in record.items() if k != "hash"})
    except ValueError:
        return None, "not a JSON record"
    if raw != body[:-1] + b',"hash":' + canonical({"": claimed})[4:-1] + b"}\n":
        return None, NOT_CANONICAL
    if not hmac.compare_digest(hasher.digest(body), claimed):
        return None, "hash does not match the record (edited, or hashed with another key)"
    return record, ""


def whole_json(raw: bytes) -> bool:
    """True when ``raw``, a file's last line without its newline, is a whole JSON object: not a
    line torn by a crash mid-write (the writer writes a record and its newline in one write, and no
    proper prefix of a record is JSON), so it is judged as a record."""
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def rotation_set(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files of ``paths``, each base path joined by its rotated siblings (``path.N``), oldest first.

    ``audit.jsonl`` stands for ``audit.jsonl.K ... audit.jsonl.1, audit.jsonl``; a rotated file
    named on its own is taken as given. Duplicates are dropped.
    """
    groups: dict[str, set[int]] = {}
    for given in paths:
        text = os.fspath(given)
        match = _ROTATED.match(text)
        if match is not None:
            groups.setdefault(match["base"], set()).add(int(match["n"]))
            continue
        found = groups.setdefault(text, set())
        found.add(0)
        given_path = Path(text)
        if given_path.parent.is_dir():
            prefix = given_path.name + "."
            for sibling in given_path.parent.iterdir():
                rest = sibling.name[len(prefix) :] if sibling.name.startswith(prefix) else ""
                if rest.isdigit():
                    found.add(int(rest))
    ordered: list[Path] = []
    for base, numbers in groups.items():
        ordered.extend(Path(base if n == 0 else f"{base}.{n}") for n in sorted(numbers, reverse=True))
    return ordered
