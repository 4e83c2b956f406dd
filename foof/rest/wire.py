"""Reading secondhand requests: JSON or form bodies alike; the one uploaded file."""

from flask import request

from foof.domain.errors import Invalid
from foof.rest.envelope import Refused


def payload():
    """The request's fields. A JSON body must be an object: a body that is not JSON at all
    (including one with a lone surrogate or nested too deep) or is an array, string or number
    is :class:`Invalid` (4005) instead of being read as "no fields" — an update with no
    fields would succeed and touch the row. An empty body is no fields."""
    if request.is_json:
        if not request.get_data(cache=True):
            return {}
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid()
        return body
    return {key: request.form.get(key) for key in request.form.keys()}


def upload_bytes():
    """The bytes of the ``file`` part (or the only part); 6000 when there is none or it is empty."""
    storage = request.files.get("file") or next(iter(request.files.values()), None)
    data = storage.read() if storage is not None else b""
    if not data:
        raise Refused(6000, "上传文件为空！")
    return data
