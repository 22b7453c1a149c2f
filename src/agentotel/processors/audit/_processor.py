"""``AuditSpanProcessor``: derives audit records in ``on_end`` and hands them to one writer thread.

``on_end`` derives the record (a pure function of the span, see ``_derive``) and queues it: it
never does file I/O and never raises (an error of ours is logged at DEBUG and counted in
``agentotel.telemetry.errors``). With ``fsync=sync`` it then waits until the writer has written and
synced the record (at most ``block_timeout`` plus ``shutdown_timeout`` of the writer in all; not
at all while the writer is stuck, see :meth:`QueueWriter.submit_and_wait`). The writer
thread chains and writes the records (``_sink``) and then, when a LoggerProvider is configured
(given, or set globally), emits each one as an ``agentotel.audit`` log event whose body is the
record, so a Collector can ship audit data off the machine; checkpoints go to the anchor file and
out as ``agentotel.audit.checkpoint`` log events (``_anchor``).

Incidents (:class:`AuditChainBroken` at start-up, :class:`AuditFileDeleted` while running) are
logged at WARNING, counted in ``agentotel.telemetry.errors`` and make :attr:`healthy` False for the
rest of the process's life, so ``/readyz`` reports them.

Agent names: tool, guard and approval spans do not carry ``gen_ai.agent.name``, and children end
before their parents, so ``on_start`` remembers the agent name each span inherits (its own, or its
parent's) by span id, and ``on_end`` takes it back out. At most 100,000 spans are remembered at
once (spans that never end cannot grow it further; later ones then go without an agent name).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, NoOpLoggerProvider, SeverityNumber, get_logger
from opentelemetry._logs import get_logger_provider as _global_logger_provider
from opentelemetry._logs._internal import ProxyLoggerProvider
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from agentotel import semconv
from agentotel._safe import Boundary
from agentotel._version import __version__
from agentotel.config import (
    AUDIT_ANCHOR_PATH,
    AUDIT_ANCHOR_RECORDS,
    AUDIT_ANCHOR_SECONDS,
    AUDIT_FSYNC,
    AUDIT_GUARD_CHECKS,
    AUDIT_HMAC_KEY,
    AUDIT_KEEP_FILES,
    AUDIT_LLM_CALLS,
    AUDIT_MAX_BYTES,
    AUDIT_PATH,
    AUDIT_QUEUE_POLICY,
    AUDIT_QUEUE_SIZE,
    ConfigError,
    choice,
    flag,
    positive_int,
    positive_seconds,
)
from agentotel.metrics.instruments import telemetry_dropped
from agentotel.processors._writer import FullPolicy, QueueWriter
from agentotel.processors.audit._anchor import AnchorFile, checkpoint
from agentotel.processors.audit._chain import Hasher
from agentotel.processors.audit._derive import AuditPolicy, AuditRecord, derive
from agentotel.processors.audit._sink import AuditFileLocked, AuditFileSink, Durable, Fsync, Opener, OsFile

_log = logging.getLogger("agentotel")

COMPONENT: Final = "audit"
DEFAULT_QUEUE_SIZE: Final = 10_000
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_KEEP_FILES: Final = 10
DEFAULT_ANCHOR_RECORDS: Final = 1000
DEFAULT_ANCHOR_SECONDS: Final = 60.0
_AGENTS_MAX: Final = 100_000


@dataclass(frozen=True)
class AuditSettings:
    """The audit log's configuration (``AGENTOTEL_AUDIT_*``, see :mod:`agentotel.config`)."""

    path: str | None = None
    hmac_key: bytes | None = field(default=None, repr=False)
    fsync: Fsync = Fsync.BATCH
    queue_policy: FullPolicy = FullPolicy.BLOCK
    queue_size: int = DEFAULT_QUEUE_SIZE
    max_bytes: int = DEFAULT_MAX_BYTES
    keep_files: int = DEFAULT_KEEP_FILES
    guard_checks: bool = False
    llm_calls: bool = False
    anchor_path: str | None = None
    anchor_every: int = DEFAULT_ANCHOR_RECORDS
    anchor_seconds: float = DEFAULT_ANCHOR_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditSettings:
        """Read the settings; raises :class:`~agentotel.config.ConfigError` for a malformed value."""
        env = os.environ if environ is None else environ
        key = env.get(AUDIT_HMAC_KEY, "")
        return cls(
            path=env.get(AUDIT_PATH, "").strip() or None,
            hmac_key=key.encode("utf-8") if key else None,
            fsync=Fsync(choice(env, AUDIT_FSYNC, tuple(f.value for f in Fsync), Fsync.BATCH.value)),
            queue_policy=FullPolicy(
                choice(env, AUDIT_QUEUE_POLICY, tuple(p.value for p in FullPolicy), FullPolicy.BLOCK.value)
            ),
            queue_size=positive_int(env, AUDIT_QUEUE_SIZE, DEFAULT_QUEUE_SIZE),
            max_bytes=positive_int(env, AUDIT_MAX_BYTES, DEFAULT_MAX_BYTES),
            keep_files=positive_int(env, AUDIT_KEEP_FILES, DEFAULT_KEEP_FILES),
            guard_checks=flag(env, AUDIT_GUARD_CHECKS),
            llm_calls=flag(env, AUDIT_LLM_CALLS),
            anchor_path=env.get(AUDIT_ANCHOR_PATH, "").strip() or None,
            anchor_every=positive_int(env, AUDIT_ANCHOR_RECORDS, DEFAULT_ANCHOR_RECORDS),
            anchor_seconds=positive_seconds(env, AUDIT_ANCHOR_SECONDS, DEFAULT_ANCHOR_SECONDS),
        )


class AuditSpanProcessor(SpanProcessor):
    """Writes a tamper-evident audit log (JSON Lines, hash-chained) of the agent's decisions::

        from agentotel.processors import AuditSpanProcessor
        provider.add_span_processor(AuditSpanProcessor("/var/log/agent/audit.jsonl"))

    Every argument left out comes from the environment (``AGENTOTEL_AUDIT_PATH``, ``_HMAC_KEY``,
    ``_FSYNC``, ``_QUEUE_POLICY``, ``_QUEUE_SIZE``, ``_MAX_BYTES``, ``_KEEP_FILES``,
    ``_GUARD_CHECKS``, ``_LLM_CALLS``, ``_ANCHOR_PATH``, ``_ANCHOR_RECORDS``, ``_ANCHOR_SECONDS``).
    A path that cannot be used, or that another writer holds, raises
    :class:`~agentotel.config.ConfigError` here, at start-up; later write errors are counted,
    logged once and retried, never raised. ``opener`` opens the audit files (for tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        hmac_key: bytes | str | None = None,
        fsync: Fsync | str | None = None,
        queue_policy: FullPolicy | str | None = None,
        queue_size: int | None = None,
        max_bytes: int | None = None,
        keep_files: int | None = None,
        guard_checks: bool | None = None,
        llm_calls: bool | None = None,
        anchor_path: str | os.PathLike[str] | None = None,
        anchor_every: int | None = None,
        anchor_seconds: float | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        opener: Opener | None = None,
    ) -> None:
        settings = _settings(
            path=None if path is None else os.fspath(path),
            hmac_key=hmac_key.encode("utf-8") if isinstance(hmac_key, str) else hmac_key,
            fsync=None if fsync is None else Fsync(fsync),
            queue_policy=None if queue_policy is None else FullPolicy(queue_policy),
            queue_size=queue_size,
            max_bytes=max_bytes,
            keep_files=keep_files,
            guard_checks=guard_checks,
            llm_calls=llm_calls,
            anchor_path=None if anchor_path is None else os.fspath(anchor_path),
            anchor_every=anchor_every,
            anchor_seconds=anchor_seconds,
        )
        self.settings = settings
        meter = get_meter(semconv.SCOPE_NAME, __version__, meter_provider)
        self._boundary = Boundary(COMPONENT, meter)
        self._policy = AuditPolicy(guard_checks=settings.guard_checks, llm_calls=settings.llm_calls)
        self._agents: dict[int, str] = {}
        self._logger_provider = logger_provider
        self._logger = get_logger(semconv.SCOPE_NAME, __version__, logger_provider=logger_provider)
        self.path = str(settings.path)
        self._sync = settings.fsync is Fsync.SYNC
        self._closed = False
        self._incident: Exception | None = None
        self._hasher = Hasher(settings.hmac_key)
        self._anchors: AnchorFile | None = None
        if settings.anchor_path is not None:
            try:
                self._anchors = AnchorFile(settings.anchor_path, sync=settings.fsync is not Fsync.NEVER)
            except OSError as exc:
                why = f"cannot use {settings.anchor_path!r} for the audit checkpoints ({exc})"
                raise ConfigError(f"{AUDIT_ANCHOR_PATH}: {why}") from exc
        try:
            sink = AuditFileSink(
                self.path,
                self._hasher,
                fsync=settings.fsync,
                max_bytes=settings.max_bytes,
                keep_files=settings.keep_files,
                opener=opener or OsFile,
                on_written=self._emit,
                on_checkpoint=self._checkpoint,
                anchor_every=settings.anchor_every,
                anchor_seconds=settings.anchor_seconds,
                on_incident=self._on_incident,
            )
        except AuditFileLocked as exc:
            raise ConfigError(
                f"{AUDIT_PATH}: {self.path!r} is being written by another process (or another "
                "AuditSpanProcessor): two writers would break the chain; give each process its own audit path"
            ) from exc
        except OSError as exc:
            raise ConfigError(f"{AUDIT_PATH}: cannot use {self.path!r} for the audit log ({exc})") from exc
        self._writer: QueueWriter[AuditRecord | Durable] = QueueWriter(
            sink,
            self._boundary,
            telemetry_dropped(meter),
            max_queue=settings.queue_size,
            policy=settings.queue_policy,
        )

    @property
    def healthy(self) -> bool:
        """False while the audit file cannot be written, and for good once the chain was found
        broken or the file deleted (for readiness probes)."""
        return self._incident is None and self._writer.healthy

    @property
    def problem(self) -> str | None:
        """Why it is not healthy, for ``/readyz`` (``disk full at PATH``, or the incident)."""
        if self._incident is not None:
            return str(self._incident)
        return self._writer.problem

    @property
    def last_error(self) -> BaseException | None:
        """The incident (chain broken, file deleted), else the writer's last write error."""
        return self._incident or self._writer.last_error

    # --- SpanProcessor ---------------------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        try:
            attrs = span.attributes
            name = attrs.get(semconv.GEN_AI_AGENT_NAME) if attrs else None
            if name is None:
                parent = span.parent
                if parent is None or not self._agents:
                    return
                name = self._agents.get(parent.span_id)
                if name is None:
                    return
            if len(self._agents) < _AGENTS_MAX:
                self._agents[span.context.span_id] = str(name)
        except Exception as exc:
            self._boundary.report(exc)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            agents = self._agents
            agent = agents.pop(span.context.span_id, None) if agents and span.context else None
            record = derive(span, self._policy, agent)
            if record is None:
                return
            if not self._sync:
                self._writer.submit(record)
                return
            durable = Durable(record)
            self._writer.submit_and_wait(durable, durable.done)
        except Exception as exc:
            self._boundary.report(exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Wait until every record queued so far is written (False on timeout)."""
        return self._writer.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        """Write everything queued, then close the file (and the checkpoint file)."""
        if self._closed:
            return
        self._closed = True
        self._writer.shutdown()
        self._agents.clear()
        if self._anchors is not None:
            self._anchors.close()

    # --- the writer thread -----------------------------------------------------------------------
    def _on_incident(self, incident: Exception) -> None:
        self._incident = incident
        self._boundary.report(incident)
        _log.warning("agentotel: %s", incident)

    def _checkpoint(self, seq: int, digest: str, time_ns: int) -> None:
        fields = checkpoint(seq, digest, time_ns, self._hasher)
        if self._anchors is not None:
            try:
                self._anchors.write(fields)
            except OSError as exc:
                self._boundary.report(exc)
        self._log_event(fields, time_ns, None, semconv.EVENT_AUDIT_CHECKPOINT)

    def _emit(self, record: dict[str, Any], time_ns: int) -> None:
        self._log_event(
            record, time_ns, _span_context(record.get("trace_id"), record.get("span_id")), semconv.EVENT_AUDIT
        )

    def _log_event(self, body: dict[str, Any], time_ns: int, context: Context | None, name: str) -> None:
        provider = self._logger_provider or _global_logger_provider()
        if isinstance(provider, (ProxyLoggerProvider, NoOpLoggerProvider)):
            return
        try:
            self._logger.emit(
                timestamp=time_ns,
                context=context,
                severity_number=SeverityNumber.INFO,
                body=body,
                event_name=name,
            )
        except Exception as exc:
            self._boundary.report(exc)


def _settings(**overrides: Any) -> AuditSettings:
    given = {k: v for k, v in overrides.items() if v is not None}
    settings = dataclasses.replace(AuditSettings.from_env(), **given)
    if settings.path is None:
        raise ConfigError(f"no audit log path: pass path= or set {AUDIT_PATH}")
    for name in ("queue_size", "max_bytes", "keep_files", "anchor_every"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name}={getattr(settings, name)!r} is not valid: expected at least 1")
    if settings.fsync is Fsync.SYNC and settings.queue_policy is FullPolicy.DROP:
        raise ConfigError(
            f"{AUDIT_FSYNC}=sync needs {AUDIT_QUEUE_POLICY}=block (a dropped record would be "
            "acknowledged without being on disk)"
        )
    return settings


def _span_context(trace_id: Any, span_id: Any) -> Context | None:
    if not isinstance(trace_id, str) or not isinstance(span_id, str):
        return None
    ctx = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=False, trace_flags=TraceFlags(1))
    return trace.set_span_in_context(NonRecordingSpan(ctx))


_ALWAYS_ON: Final = "AlwaysOnSampler"


def check_sampler(tracer_provider: Any) -> bool:
    """False, after one WARNING, when ``tracer_provider`` may not record every span.

    The audit log sees only recorded spans: with a sampler other than ALWAYS_ON or
    ParentBased(ALWAYS_ON), tool calls and decisions can be missing from it.
    """
    sampler = getattr(tracer_provider, "sampler", None)
    describe: Callable[[], str] | None = getattr(sampler, "get_description", None)
    description = describe() if describe is not None else repr(sampler)
    if description == _ALWAYS_ON or description.startswith(f"ParentBased{{root:{_ALWAYS_ON},"):
        return True
    _log.warning(
        "agentotel: the tracer provider's sampler is %s, not ALWAYS_ON: spans it does not record are "
        "missing from the audit log",
        description,
    )
    return False


def attach_from_env(
    tracer_provider: Any,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
) -> AuditSpanProcessor | None:
    """An :class:`AuditSpanProcessor` added to ``tracer_provider`` when ``AGENTOTEL_AUDIT_PATH`` is
    set (None otherwise); warns if its sampler may drop spans. Raises
    :class:`~agentotel.config.ConfigError` for an unusable path or a malformed setting."""
    if not os.environ.get(AUDIT_PATH, "").strip():
        return None
    if not hasattr(tracer_provider, "add_span_processor"):
        _log.warning("agentotel: %s is set, but the tracer provider is not the SDK's: no audit", AUDIT_PATH)
        return None
    processor = AuditSpanProcessor(meter_provider=meter_provider, logger_provider=logger_provider)
    tracer_provider.add_span_processor(processor)
    check_sampler(tracer_provider)
    return processor
