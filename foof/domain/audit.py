"""The audit log of staff actions (issue #15): who, what, on which target, why, when.

:func:`record` is called inside the action's own transaction, so an action and its entry
commit together or not at all. Entries are only ever added: no function here (and no console
page) updates or deletes one. Each action is also written to the security log
(:mod:`foof.domain.seclog`) after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from foof.domain import clock, seclog
from foof.domain.tx import after_commit
from foof.extensions import db
from foof.models import AuditEntry

#: The actor recorded for the command line (``flask --app foof grant-role`` …).
CLI = 0
PAGE_SIZE = 50


def record(actor: int, action: str, target_kind: str, target: int, reason: str = "") -> None:
    """Add an entry (call inside :func:`foof.domain.tx.atomic`)."""
    entry = AuditEntry(
        at=clock.now(),
        actor=int(actor),
        action=action[:32],
        target_kind=target_kind[:16],
        target=int(target),
        reason=str(reason or "")[:255],
    )
    db.session.add(entry)
    fields = {"actor": actor or "cli", "target": f"{target_kind}:{target}", "reason": reason or "-"}
    after_commit(lambda: seclog.event("staff." + action, **fields))


def entries(page: int = 1, size: int = PAGE_SIZE) -> Sequence[AuditEntry]:
    """Newest first."""
    page = max(1, int(page))
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(size).offset((page - 1) * size)
    return db.session.execute(stmt).scalars().all()


def count() -> int:
    return int(db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
