"""``agentotel audit``: verify and tail audit logs.

agentotel audit verify PATH... [--anchor SEQ:HASH] [--anchors FILE] [--accept-gaps]
agentotel audit tail PATH [-n N] [--follow] [--type T] [--json]

``verify`` exits 0 with a one-line summary (``OK chain intact: ...``) when the chain is intact,
holds at least one record and matches every anchor; 1 otherwise, with ``BROKEN chain broken at
seq N (file line L): why; what verifies before it`` or ``EMPTY no records ...``. Both commands
exit 2 with a one-line error for a file that cannot be read, a malformed anchor or an unknown
event type. The HMAC key, when the log was written with one, is read from
``AGENTOTEL_AUDIT_HMAC_KEY`` (``--key-env`` names another variable). Everything read from the
files (names, paths, reasons) is printed literally: never as rich markup.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from rich.console import Console
from rich.text import Text

from agentotel import semconv
from agentotel.cli._text import literal, shown
from agentotel.config import AUDIT_HMAC_KEY
from agentotel.processors.audit import EVENT_TYPES, Anchor, AuditTail, load_anchors, parse_anchor, verify

_CONTENT = (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, semconv.GEN_AI_TOOL_CALL_RESULT)
_BAD_OUTCOMES = ("failure", "blocked", "denied", "timed_out", "lost", "discarded")


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _error(message: str) -> int:
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        Text.assemble(("error: ", "bold red"), literal(message))
    )
    return 2


def _unreadable(exc: OSError) -> int:
    return _error(f"cannot read {exc.filename or ''}: {exc.strerror or exc}")


def run_verify(args: argparse.Namespace) -> int:
    raw_key = os.environ.get(args.key_env, "")
    key = raw_key.encode("utf-8") if raw_key else None
    try:
        anchors: list[Anchor] = [parse_anchor(text) for text in args.anchor]
        for path in args.anchors:
            anchors.extend(load_anchors(path, key))
        result = verify(args.paths, key, anchors=anchors, accept_gaps=args.accept_gaps)
    except OSError as exc:
        return _unreadable(exc)
    except ValueError as exc:
        return _error(str(exc))
    if result.ok:
        verdict = ("OK ", "bold green")
    elif result.broken is None:
        verdict = ("EMPTY ", "bold red")
    else:
        verdict = ("BROKEN ", "bold red")
    _out().print(Text.assemble(verdict, literal(result.summary())))
    return 0 if result.ok else 1


def run_tail(args: argparse.Namespace) -> int:
    if args.event_type is not None and args.event_type not in EVENT_TYPES:
        return _error(f"unknown event type {args.event_type!r} (one of: {', '.join(EVENT_TYPES)})")
    if args.lines < 0:
        return _error(f"--lines must be 0 or more, not {args.lines}")
    console = _out()
    try:
        tail = AuditTail(args.path, args.event_type)
    except OSError as exc:
        return _unreadable(exc)
    try:
        for raw in tail.last(args.lines):
            _show(console, raw, args.json)
        if args.follow:
            for raw in tail.follow():
                _show(console, raw, args.json)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        return _unreadable(exc)
    finally:
        tail.close()
    return 0


def _show(console: Console, raw: bytes, as_json: bool) -> None:
    text = raw.decode("utf-8", errors="replace").rstrip("\n")
    if as_json:
        console.out(text, highlight=False)
        return
    try:
        record: dict[str, Any] = json.loads(text)
        line = _render(record)
    except (ValueError, AttributeError, TypeError):
        line = literal(f"(not an audit record) {text}", style="red")
    console.print(line)


def _render(record: dict[str, Any]) -> Text:
    actor = record.get("actor") or {}
    outcome = str(record.get("outcome"))
    meta = {k: v for k, v in (record.get("metadata") or {}).items() if k not in _CONTENT}
    parts: list[tuple[str, str] | str] = [
        (f"{shown(record.get('seq', '?')):>6}  ", "dim"),
        f"{shown(record.get('timestamp', ''))}  ",
        (f"{shown(record.get('event_type', '')):<17} ", "bold"),
        (f"{shown(outcome):<9} ", "red" if outcome in _BAD_OUTCOMES else "green"),
        f"{shown(actor.get('agent') or '-')}/{shown(actor.get('user') or '-')}  ",
        f"{shown(record.get('action', ''))} {shown(record.get('resource') or '')}",
    ]
    if record.get("conversation_id"):
        parts.append((f"  conversation={shown(record['conversation_id'])}", "dim"))
    if meta:
        parts.append((f"  {shown(json.dumps(meta, ensure_ascii=False, separators=(',', ':')))}", "dim"))
    return Text.assemble(*parts)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("audit", help="verify and tail audit logs")
    commands = parser.add_subparsers(dest="audit_command", required=True)
    check = commands.add_parser("verify", help="check the hash chain of audit files (rotated files included)")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument(
        "--key-env",
        default=AUDIT_HMAC_KEY,
        metavar="VAR",
        help="environment variable holding the HMAC key (default: %(default)s)",
    )
    check.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a checkpoint published elsewhere: the log must hold record SEQ with this hash (repeatable)",
    )
    check.add_argument(
        "--anchors",
        action="append",
        default=[],
        metavar="FILE",
        help="checkpoints: the AGENTOTEL_AUDIT_ANCHOR_PATH file, or a Collector file export (repeatable)",
    )
    check.add_argument(
        "--accept-gaps",
        action="store_true",
        help="accept the chain_broken and file_deleted gaps the writer recorded (breaks otherwise)",
    )
    check.set_defaults(handler=run_verify)
    tail = commands.add_parser("tail", help="print the last records of an audit file, and follow it")
    tail.add_argument("path", metavar="PATH")
    tail.add_argument("-n", "--lines", type=int, default=10, help="records to print (default: %(default)s)")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing records as they are written")
    tail.add_argument("--type", dest="event_type", metavar="T", help="only records of this event_type")
    tail.add_argument("--json", action="store_true", help="print the records' JSON lines as they are")
    tail.set_defaults(handler=run_tail)
