"""The audit log: a tamper-evident JSON Lines record of what the agent did and decided.

::

    from agentotel.processors import AuditSpanProcessor
    provider.add_span_processor(AuditSpanProcessor("audit.jsonl"))   # or AGENTOTEL_AUDIT_PATH=...

    $ agentotel audit verify audit.jsonl --anchors anchors.jsonl
    OK chain intact: 1520 records, seq 1..1520, 1 file, SHA-256 (2 anchors match)
    $ agentotel audit tail audit.jsonl --follow --type guard_violation

One record per line (docs/audit-log.md; docs/architecture.md): ``seq, timestamp, event_type, actor
{agent, user}, action, resource, outcome, metadata, trace_id, span_id, conversation_id, prev_hash,
hash``. Which spans become which records is in ``_derive``; how records are chained in ``_chain``
and checked in :func:`verify`; what the writer does with a tampered, locked or deleted file in ``_sink``;
checkpoints in ``_anchor``. Reading back: :func:`verify` (with :func:`parse_anchor` /
:func:`load_anchors`), :class:`AuditTail` (the last records, then the new ones as they are written),
:data:`EVENT_TYPES`; ``agentotel audit`` uses these and nothing else of the package.

Environment (defaults in brackets): ``AGENTOTEL_AUDIT_PATH`` (attaches the processor under
``opentelemetry-instrument``), ``AGENTOTEL_AUDIT_HMAC_KEY`` [plain SHA-256],
``AGENTOTEL_AUDIT_FSYNC`` [batch | record | never | sync], ``AGENTOTEL_AUDIT_QUEUE_POLICY``
[block | drop], ``AGENTOTEL_AUDIT_QUEUE_SIZE`` [10000], ``AGENTOTEL_AUDIT_MAX_BYTES`` [50 MiB],
``AGENTOTEL_AUDIT_KEEP_FILES`` [10], ``AGENTOTEL_AUDIT_GUARD_CHECKS`` [false],
``AGENTOTEL_AUDIT_LLM_CALLS`` [false], ``AGENTOTEL_AUDIT_ANCHOR_PATH`` [none],
``AGENTOTEL_AUDIT_ANCHOR_RECORDS`` [1000], ``AGENTOTEL_AUDIT_ANCHOR_SECONDS`` [60].

The audit log sees only the spans the tracer provider records: keep the sampler ALWAYS_ON (or
ParentBased(ALWAYS_ON)); attaching it from the environment warns otherwise (``_processor.check_sampler``).
"""

from agentotel.processors.audit._anchor import load_anchors, parse_anchor
from agentotel.processors.audit._derive import EVENT_TYPES
from agentotel.processors.audit._processor import AuditSettings, AuditSpanProcessor
from agentotel.processors.audit._read import AuditTail
from agentotel.processors.audit._sink import AuditChainBroken, AuditFileDeleted, Fsync
from agentotel.processors.audit._verify import Anchor, Break, VerifyResult, verify

__all__ = [
    "Anchor",
    "AuditChainBroken",
    "AuditFileDeleted",
    "AuditSettings",
    "AuditSpanProcessor",
    "AuditTail",
    "Break",
    "EVENT_TYPES",
    "Fsync",
    "VerifyResult",
    "load_anchors",
    "parse_anchor",
    "verify",
]
