"""Reports of products and users (issue #15), and their resolution by staff.

A logged-in person files ``{"kind": "product"|"user", "id": …, "reason": …, "note": …}``:
``reason`` is one of :data:`REASONS`, ``note`` optional free text of at most 255 characters.
One open report per reporter and target (the database refuses a second through the unique
``open_key``, also when two race); at most ``FOOF_REPORTS_PER_HOUR`` reports per reporter in
any hour, counted in the report's own transaction. Nobody reports themselves or their own
listing.

Staff resolve a report as ``dismiss``, ``takedown`` (the listing leaves both faces and search:
:func:`foof.domain.moderation.take_down_in`) or ``disable`` (the reported user, or the
listing's seller: :func:`foof.domain.moderation.disable_in`). The action, the audit entry and
the report's new state commit together; resolving closes every open report on the same
target, since they all asked for the same decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from foof.domain import accounts, audit, cards, clock, listings, moderation, ratelimit
from foof.domain.errors import DomainError, Invalid, ItemNotFound, NotFound, TooFrequent, UserNotFound
from foof.domain.tx import atomic
from foof.domain.values import parse_id
from foof.extensions import db
from foof.models import Item, Report, User

PRODUCT, USER = "product", "user"
KINDS = (PRODUCT, USER)
#: Reason code → what the console shows.
REASONS = {
    "prohibited": "违禁物品",
    "fake": "虚假或误导信息",
    "fraud": "疑似诈骗",
    "harassment": "骚扰或辱骂",
    "spam": "广告或重复发布",
    "other": "其他",
}
MAX_NOTE = 255
OPEN, RESOLVED = "open", "resolved"
DISMISS, TAKEDOWN, DISABLE = "dismiss", "takedown", "disable"
RESOLUTIONS = {DISMISS: "驳回", TAKEDOWN: "下架商品", DISABLE: "停用账号"}
RATE_KIND = "report:user"
HOUR = 3600


class AlreadyReported(DomainError):
    """The reporter has an open report on this target."""


class TooManyReports(TooFrequent):
    """Over FOOF_REPORTS_PER_HOUR."""


class StaffTarget(DomainError):
    """Staff accounts are not disabled through a report: their role is taken away first
    (``flask --app foof grant-role … student``)."""


class ReportNotOpen(NotFound):
    """No such report, or it was resolved meanwhile."""


def _key(reporter: int, kind: str, target: int) -> str:
    return f"{reporter}:{kind}:{target}"


def _target(kind: Any, target: Any) -> tuple[str, int]:
    if not isinstance(kind, str) or kind not in KINDS:
        raise Invalid()
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise Invalid()
    try:
        key = parse_id(target)
    except Invalid:
        raise (ItemNotFound() if kind == PRODUCT else UserNotFound()) from None
    return kind, key


def file(reporter: int, kind: Any, target: Any, reason: Any, note: Any = None) -> int:
    """File a report; its id."""
    kind, key = _target(kind, target)
    if not isinstance(reason, str) or reason not in REASONS:
        raise Invalid()
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise Invalid()
    per_hour = int(current_app.config["FOOF_REPORTS_PER_HOUR"])

    def work() -> int:
        if kind == PRODUCT:
            owner = listings.get(key).uuid
        else:
            owner = accounts.get(key).uuid
        if owner == reporter:
            raise Invalid()
        open_key = _key(reporter, kind, key)
        if db.session.execute(select(Report.id).where(Report.open_key == open_key)).first():
            raise AlreadyReported()
        if per_hour and ratelimit.take(RATE_KIND, reporter, per_hour, HOUR) is None:
            raise TooManyReports()
        report = Report(
            reporter=reporter,
            kind=kind,
            target=key,
            reason=reason,
            note=note.strip(),
            state=OPEN,
            open_key=open_key,
            created_at=clock.now(),
        )
        db.session.add(report)
        db.session.flush()
        return report.id

    try:
        return atomic(work)
    except IntegrityError:
        db.session.rollback()
        raise AlreadyReported() from None


def open_reports(limit: int = 50) -> Sequence[Report]:
    """The queue, oldest first."""
    stmt = select(Report).where(Report.state == OPEN).order_by(Report.id).limit(limit)
    return db.session.execute(stmt).scalars().all()


def open_count() -> int:
    return int(db.session.execute(select(func.count()).select_from(Report).where(Report.state == OPEN)).scalar_one())


def get(report_id: Any) -> Report:
    try:
        key = parse_id(report_id)
    except Invalid:
        raise ReportNotOpen() from None
    report = db.session.get(Report, key)
    if report is None:
        raise ReportNotOpen()
    return report


def resolve(report_id: Any, action: Any, actor: int, reason: Any = "") -> int:
    """Resolve an open report (and the other open reports on its target) as ``action``; how
    many reports were closed. :class:`ReportNotOpen` when it is missing or already resolved;
    :class:`Invalid` for an unknown action, ``takedown`` of a user, or a reason over 255."""
    if not isinstance(action, str) or action not in RESOLUTIONS:
        raise Invalid()
    if not isinstance(reason, str) or len(reason) > MAX_NOTE:
        raise Invalid()
    reason = reason.strip()

    def work() -> int:
        report = get(report_id)
        if report.state != OPEN:
            raise ReportNotOpen()
        # Claim the report before acting: of two staff resolving it at once, the second's
        # conditional update finds it resolved (MySQL waits for the first's row lock, SQLite
        # retries the whole work), and its action is rolled back with it.
        now = clock.now()
        resolved = {"state": RESOLVED, "open_key": None, "resolved_at": now, "resolver": actor, "resolution": action}
        claimed = db.session.execute(
            update(Report)
            .where(Report.id == report.id, Report.state == OPEN)
            .values(**resolved)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # a CursorResult
        if claimed != 1:
            raise ReportNotOpen()
        if action == TAKEDOWN:
            if report.kind != PRODUCT:
                raise Invalid()
            moderation.take_down_in(report.target, reason or REASONS.get(report.reason, ""), str(actor))
        elif action == DISABLE:
            if report.kind == PRODUCT:
                seller = db.session.execute(select(Item.uuid).where(Item.itemid == report.target)).scalar()
                if seller is None:
                    raise ItemNotFound()
                uuid = int(seller)
            else:
                uuid = report.target
            if cards.is_staff(uuid):
                raise StaffTarget()
            moderation.disable_in(uuid, reason or REASONS.get(report.reason, ""), str(actor))
        others = db.session.execute(
            update(Report)
            .where(Report.kind == report.kind, Report.target == report.target, Report.state == OPEN)
            .values(**resolved)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # a CursorResult
        audit.record(actor, "report." + action, "report", report.id, reason)
        return 1 + int(others)

    return atomic(work)


def describe(report: Report) -> dict[str, Any]:
    """What the console shows of a report's target (also once deleted or disabled)."""
    info: dict[str, Any] = {"kind": report.kind, "target": report.target}
    if report.kind == PRODUCT:
        item = db.session.get(Item, report.target)
        info["item"] = item
        info["live"] = item is not None and item.sold not in listings.DELETED_STATES
        info["seller"] = db.session.get(User, item.uuid) if item is not None else None
    else:
        info["user"] = db.session.get(User, report.target)
        info["disabled"] = moderation.is_disabled(report.target)
    info["reporter"] = db.session.get(User, report.reporter)
    info["reason_label"] = REASONS.get(report.reason, report.reason)
    return info
