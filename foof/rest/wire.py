"""Reading secondhand requests: JSON or form bodies alike; the one uploaded file."""
from flask import request

from foof.rest.envelope import Refused


def payload():
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return {key: request.form.get(key) for key in request.form.keys()}


def upload_bytes():
    """The bytes of the ``file`` part (or the only part); 6000 when there is none or it is empty."""
    storage = request.files.get("file") or next(iter(request.files.values()), None)
    data = storage.read() if storage is not None else b""
    if not data:
        raise Refused(6000, "上传文件为空！")
    return data
