"""Span processors that derive durable records from spans: the audit log and the run store."""

from agentotel.processors.audit import AuditSpanProcessor
from agentotel.processors.runstore import RunStoreSpanProcessor

__all__ = ["AuditSpanProcessor", "RunStoreSpanProcessor"]
