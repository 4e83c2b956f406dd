"""``POST /reports`` (issue #15): report a product or a user to the campus staff.

The rules live in :mod:`foof.domain.reports`; this view maps its refusals to states of their
own: 4010 for a second open report on the same target, 4011 over the hourly limit.
"""

from flask import Blueprint

from foof.domain import reports
from foof.rest import auth
from foof.rest.envelope import Refused, handled
from foof.rest.wire import payload

bp = Blueprint("rest_reports", __name__)
ALREADY_REPORTED = (4010, "你已举报过该对象，请等待处理")
TOO_MANY_REPORTS = (4011, "举报过于频繁，请稍后再试")


@bp.post("/reports")
@handled
def file_report():
    user = auth.current_user()
    body = payload()
    try:
        reports.file(user.uuid, body.get("kind"), body.get("id"), body.get("reason"), body.get("note"))
    except reports.AlreadyReported:
        raise Refused(*ALREADY_REPORTED) from None
    except reports.TooManyReports:
        raise Refused(*TOO_MANY_REPORTS) from None
    return None
