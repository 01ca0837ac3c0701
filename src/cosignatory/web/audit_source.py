"""The audit log behind a `Service`, as the audit page's `AuditSource`."""

from __future__ import annotations

from cosignatory.service import Service
from cosignatory.web.audit_view import AuditSource

__all__ = ["service_audit_source"]


def service_audit_source(service: Service) -> AuditSource | None:
    """The service's audit log, or None while it has no checkpoint to show (and no key)."""
    log = service.audit
    return log if log.available() else None
