"""Property-based fuzzing of every legacy POST route (issue 6), bounded in time.

Arbitrary form, JSON and multipart bodies — wrong types, huge numbers, NaN, nested objects,
arrays where strings are expected, control and 4-byte characters, 100 kB strings — must
never give a 500, never leak a traceback or SQL, and never change a row when refused.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import table_snapshot

FIELDS = [
    "phonenumber",
    "password",
    "verifycode",
    "uuid",
    "itemid",
    "title",
    "type",
    "price",
    "depreciatione",
    "note",
    "sold",
    "to",
    "data",
    "id",
    "method",
    "query",
    "username",
    "idcard",
    "studentid",
    "address",
    "info",
    "from",
    "size",
    "since",
    "limit",
]
LEAKS = ("Traceback", "sqlalchemy", "SELECT ", "INSERT ", "UPDATE ", "pymysql", "sqlite3", "Error(")

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=10),
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "3",
            "2147483648",
            "99999999999999999999",
            "1e400",
            "NaN",
            "[1,2,3]",
            '["1"]',
            "' OR 1=1 --",
            "../../etc/passwd",
            "x" * 100_000,
        ]
    ),
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=8,
)


def _routes():
    from foof import create_app

    app = create_app(
        {
            "FOOF_INSTANCE_PATH": "/tmp/foof-route-listing",
            "FOOF_DATABASE_URL": "sqlite://",
            "FOOF_JWT_SECRET": "x" * 40,
            "FOOF_SECRET_KEY": "x",
        }
    )
    return sorted(
        r.rule
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and r.rule.startswith(("/user/", "/item/", "/fav/")) and "<" not in r.rule
    )


ROUTES = _routes()
# Reporting a failing example that holds a 100 kB string makes Hypothesis warn about the repr
# size; the warning would replace the real failure (warnings are errors here).
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def refused(reply):
    if reply.status_code != 200:
        return True
    try:
        body = json.loads(reply.data)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") not in (None, "success") and "took" not in body


@pytest.fixture
def world(app, make_user, make_item, token_for):
    seller, buyer = make_user("1", "pw"), make_user("2", "pw")
    make_item(seller)
    make_item(seller, sold=3, to=buyer)
    return {"token": token_for(seller)}


form_bodies = st.dictionaries(st.sampled_from(FIELDS), texts, max_size=6)
json_bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
specs = st.one_of(
    st.tuples(st.just("form"), form_bodies, st.booleans()),
    st.tuples(st.just("multipart"), form_bodies, st.booleans()),
    st.tuples(st.just("json"), json_bodies, st.booleans()),
    st.tuples(
        st.just("raw"),
        st.binary(max_size=200),
        st.sampled_from(["application/json", "multipart/form-data", "application/x-www-form-urlencoded", "text/plain"]),
    ),
)


def _request(spec, token):
    kind, body, extra = spec
    if kind == "raw":
        return dict(data=body, content_type=extra)
    body = dict(body)
    if extra:
        body["token"] = token
    if kind == "json":
        return dict(data=json.dumps(body, allow_nan=True), content_type="application/json")
    if kind == "multipart":
        return dict(data=body, content_type="multipart/form-data")
    return dict(data=body)


@pytest.mark.parametrize("route", ROUTES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
    print_blob=False,
)
@given(spec=specs)
def test_fuzz_route(app, client, world, route, spec):
    before = table_snapshot(app)
    request = _request(spec, world["token"])
    reply = client.post(route, **request)
    assert reply.status_code in (200, 400, 403, 413), (route, reply.status_code, reply.data[:200])
    if reply.status_code == 400:  # issue #12 item 5: only for a JSON body that is not an object
        assert request.get("content_type") == "application/json" and reply.data == b"Bad Request"
        try:
            parsed = app.json.loads(request["data"])
        except ValueError:
            parsed = None
        assert not isinstance(parsed, dict), request["data"][:200]
    assert reply.headers["Content-Type"] in ("application/json; charset=utf-8", "text/plain; charset=utf-8")
    text_body = reply.get_data(as_text=True)
    assert not any(leak in text_body for leak in LEAKS), text_body[:300]
    if refused(reply):
        assert table_snapshot(app) == before, (route, text_body[:200])


NESTED = ["[" * 50_000, '{"a":' * 50_000, '{"token":' + "[" * 50_000]


@pytest.mark.parametrize("route", ROUTES)
def test_json_nested_beyond_the_parser_is_refused_not_a_500(app, client, world, route):
    """Found in review: json.loads raises RecursionError, not ValueError, past ~1,000 levels."""
    before = table_snapshot(app)
    for body in NESTED:
        reply = client.post(route, data=body, content_type="application/json")
        # issue #12 item 5: invalid JSON is the legacy body parser's 400, before any route
        assert (reply.status, reply.data) == ("400 Bad Request", b"Bad Request"), (route, reply.status)
        assert not any(leak in reply.get_data(as_text=True) for leak in LEAKS)
    assert table_snapshot(app) == before


def test_rest_json_nested_beyond_the_parser_is_refused_not_a_500(app, client, world):
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/users", "/products", "/orders", "/alipay"))
        and "<" not in r.rule
        and {"POST", "PUT"} & r.methods
    ]
    assert rules
    for rule in rules:
        method = "POST" if "POST" in rule.methods else "PUT"
        for body in NESTED:
            reply = client.open(rule.rule, method=method, data=body, content_type="application/json")
            assert reply.status_code < 500, (rule.rule, reply.status_code, reply.data[:200])
