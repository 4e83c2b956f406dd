"""Configuration defaults.

Order of precedence (later wins): these defaults, ``instance/foof.cfg``, ``FOOF_*``
environment variables, then the mapping given to ``create_app``. Everything a campus
admin may tune is named ``FOOF_*`` so one prefix covers the environment and the file.
"""

import os

#: Keys read from the environment, and how to convert their text.
_INT = int


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _bool(text):
    return str(text).strip().lower() in TRUE_WORDS


ENV_KEYS = {
    "FOOF_DATABASE_URL": str,
    "FOOF_JWT_SECRET": str,
    "FOOF_SECRET_KEY": str,
    "FOOF_TOKEN_TTL_DAYS": _INT,
    "FOOF_MEDIA_ROOT": str,
    "FOOF_SEARCH_INDEX": str,
    "FOOF_UPLOAD_ROOT": str,
    "FOOF_MAX_UPLOAD_BYTES": _INT,
    "FOOF_MAX_PHOTO_UPLOAD_BYTES": _INT,
    "FOOF_PUBLIC_URL": str,
    "FOOF_MAIL_DOMAIN": str,
    "FOOF_SMS_BACKEND": str,
    "FOOF_SMS_HTTP_URL": str,
    "FOOF_SMS_HTTP_TIMEOUT": float,
    "FOOF_MAIL_BACKEND": str,
    "FOOF_SMTP_HOST": str,
    "FOOF_SMTP_PORT": _INT,
    "FOOF_SMTP_USER": str,
    "FOOF_SMTP_PASSWORD": str,
    "FOOF_SMTP_TLS": str,
    "FOOF_SMTP_TIMEOUT": float,
    "FOOF_MAIL_SENDER": str,
    "FOOF_ECHO_VERIFY_CODE": _bool,
    "FOOF_PASSWORD_HASH_METHOD": str,
    "FOOF_HASH_SLOTS": _INT,
    "FOOF_HASH_WAITING": _INT,
    "FOOF_HASH_WAIT": float,
    "FOOF_HASH_NICE": _INT,
    "FOOF_HASH_YIELD": _bool,
    "FOOF_LOG_LEVEL": str,
    "FOOF_DB_POOL_SIZE": _INT,
    "FOOF_INLINE_READS": str,
    "FOOF_TRUST_PROXY": _INT,
    "FOOF_ALIPAY_APP_ID": str,
    "FOOF_ALIPAY_PRIVATE_KEY": str,
    "FOOF_ALIPAY_PUBLIC_KEY": str,
    "FOOF_ALIPAY_NOTIFY_URL": str,
    "FOOF_ALIPAY_GATEWAY": str,
    "FOOF_CONNECTION_LIMIT": _INT,
    "FOOF_CHANNEL_TIMEOUT": _INT,
    "FOOF_MAX_REQUEST_BODY_BYTES": _INT,
    "FOOF_IMAGE_DECODES": _INT,
    "FOOF_MAX_OPEN_ORDERS": _INT,
    "FOOF_ORDERS_PER_HOUR": _INT,
    "FOOF_CHAT_PER_MINUTE": _INT,
    "FOOF_REGISTRATIONS_PER_IP_PER_DAY": _INT,
    "FOOF_REPORTS_PER_HOUR": _INT,
    "FOOF_ADMIN_SESSION_HOURS": _INT,
    "FOOF_ADMIN_LOGINS_PER_IP": _INT,
    "FOOF_SESSION_COOKIE_SECURE": str,
    "FOOF_METRICS_TOKEN": str,
    "FOOF_SECURITY_LOG": str,
    "FOOF_BRAND": str,
    "FOOF_MAIL_SUBJECT": str,
}

DEFAULTS = {
    # None means "derive from the instance folder" (see foof.create_app).
    "FOOF_DATABASE_URL": None,
    "FOOF_JWT_SECRET": None,
    "FOOF_SECRET_KEY": None,
    # Login tokens live this many days; 0 = never expire (the old server's behaviour).
    "FOOF_TOKEN_TTL_DAYS": 30,
    "FOOF_MEDIA_ROOT": os.path.join("static", "image"),
    # Secondhand-face uploads (/upload/...): avatars, product pictures, student cards.
    "FOOF_UPLOAD_ROOT": "upload",
    # Whoosh index directory; None = instance/index.
    "FOOF_SEARCH_INDEX": None,
    # The documented body limit of the legacy API (every request body but photo uploads).
    "FOOF_MAX_UPLOAD_BYTES": 1048576,
    # Multipart photo uploads of both faces (/user/avatar, /item/image, the REST avatar, student
    # card and product image): phone cameras send 2-5 MB photos, several per request.
    "FOOF_MAX_PHOTO_UPLOAD_BYTES": 10 * 1024 * 1024,
    "FOOF_PUBLIC_URL": "http://localhost:4000",
    "FOOF_MAIL_DOMAIN": "seu.edu.cn",
    "FOOF_SMS_BACKEND": "outbox",
    "FOOF_SMS_HTTP_URL": "",
    "FOOF_SMS_HTTP_TIMEOUT": 5.0,
    "FOOF_MAIL_BACKEND": "outbox",
    "FOOF_SMTP_HOST": "localhost",
    "FOOF_SMTP_PORT": 25,
    "FOOF_SMTP_USER": "",
    "FOOF_SMTP_PASSWORD": "",
    # "plain", "starttls" or "ssl".
    "FOOF_SMTP_TLS": "plain",
    "FOOF_SMTP_TIMEOUT": 10.0,
    "FOOF_MAIL_SENDER": "noreply@localhost",
    "FOOF_ECHO_VERIFY_CODE": False,
    # "argon2id" (OWASP's m=7 MiB, t=5, p=1), "argon2id:m=<KiB>,t=<passes>,p=<lanes>" (at least
    # one of OWASP's rows) or a werkzeug method ("scrypt", "pbkdf2:sha256:600000"); tests set a
    # cheap pbkdf2. Older hashes are replaced on the next login (foof/domain/passwords.py).
    "FOOF_PASSWORD_HASH_METHOD": "argon2id",
    # Hashes running at once, on their own threads (0 = the cores this process may use); how
    # many more requests may wait for one, and for how many seconds, before the answer is "too
    # frequent" (keep slots + waiting below FOOF_THREADS so other requests keep worker threads);
    # how much the hash threads' nice value is raised (19 = lowest priority; 0 = the requests').
    "FOOF_HASH_SLOTS": 0,
    "FOOF_HASH_WAITING": 16,
    "FOOF_HASH_WAIT": 10.0,
    "FOOF_HASH_NICE": 19,
    "FOOF_HASH_YIELD": True,
    "FOOF_LOG_LEVEL": "INFO",
    # Database connections kept open: at least the waitress threads (FOOF_THREADS, 8) + 2.
    "FOOF_DB_POOL_SIZE": 12,
    # Answer the hot reads on waitress's I/O thread (foof/serving.py): "auto" (SQLite, and
    # MySQL through mysqlclient, whose reads are sent without waiting), "always" (PyMySQL too,
    # which waits on the I/O thread) or "off".
    "FOOF_INLINE_READS": "auto",
    # Number of reverse proxies (nginx) in front whose X-Forwarded-For is trusted.
    "FOOF_TRUST_PROXY": 0,
    # Alipay app payments (/alipay). Without the app id and both keys /alipay/info answers 5002.
    "FOOF_ALIPAY_APP_ID": "",
    # Our application private key (signs orderStrings): PEM text, bare base64 or a file path.
    "FOOF_ALIPAY_PRIVATE_KEY": "",
    # Alipay's public key (verifies notices; not our own public key): PEM, base64 or a path.
    "FOOF_ALIPAY_PUBLIC_KEY": "",
    # Where Alipay posts notices; "" = FOOF_PUBLIC_URL + "/alipay/response".
    "FOOF_ALIPAY_NOTIFY_URL": "",
    # The app's Alipay SDK talks to the gateway; the server never calls it (informational).
    "FOOF_ALIPAY_GATEWAY": "https://openapi.alipay.com/gateway.do",
    # waitress: at most this many open client connections (more wait in the listen backlog),
    # and an idle or slow connection is closed after this many seconds (see foof/serving.py).
    "FOOF_CONNECTION_LIMIT": 1000,
    "FOOF_CHANNEL_TIMEOUT": 30,
    # waitress refuses bodies above this before the app sees them (the largest app limit).
    "FOOF_MAX_REQUEST_BODY_BYTES": 10 * 1024 * 1024,
    # Images decoded at once (each bounded in memory); 0 = the number of CPU cores.
    "FOOF_IMAGE_DECODES": 0,
    # Open (unfinished) orders one buyer may hold at once, and orders one buyer may place per hour.
    "FOOF_MAX_OPEN_ORDERS": 3,
    "FOOF_ORDERS_PER_HOUR": 10,
    # Chat messages one account may push per minute.
    "FOOF_CHAT_PER_MINUTE": 30,
    # Secondhand-face accounts created from one client address per day.
    "FOOF_REGISTRATIONS_PER_IP_PER_DAY": 10,
    # Reports (POST /reports) one account may file per hour (issue #15).
    "FOOF_REPORTS_PER_HOUR": 10,
    # The staff console (issue #15): a login lasts this many hours; failed console logins
    # allowed per client address per 15 minutes (besides the account's own guess limit).
    "FOOF_ADMIN_SESSION_HOURS": 8,
    "FOOF_ADMIN_LOGINS_PER_IP": 10,
    # The session cookie's Secure flag: "auto" (when FOOF_PUBLIC_URL is https), "1" or "0".
    "FOOF_SESSION_COOKIE_SECURE": "auto",
    # Who may read /metrics besides loopback clients: "Authorization: Bearer <token>" (issue #14).
    "FOOF_METRICS_TOKEN": "",
    # Also write the foof.security log to this file (0600); "" = stderr only, like every log.
    "FOOF_SECURITY_LOG": "",
    # The marketplace's name in verification mails, and their subject ("" = the brand).
    "FOOF_BRAND": "东大杂货铺",
    "FOOF_MAIL_SUBJECT": "",
    # A callable returning the current naive-UTC datetime; tests inject a fake clock.
    "FOOF_CLOCK": None,
}


def from_environment(environ=None):
    """The FOOF_* settings present in ``environ`` converted to their types."""
    environ = os.environ if environ is None else environ
    found = {}
    for key, convert in ENV_KEYS.items():
        if key in environ and environ[key] != "":
            found[key] = convert(environ[key])
    return found
