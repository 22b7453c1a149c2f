"""Span processors that derive durable records from spans: the audit log and the run store."""
