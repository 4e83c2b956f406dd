"""``/products``: lists, detail, add, update, picture, take down (seed 004, docs/rest-api.md)."""

from flask import Blueprint, current_app, request

from foof.domain import accounts, products
from foof.domain.errors import BadToken
from foof.domain.listings import DEFAULT_IMAGE
from foof.rest import auth
from foof.rest.envelope import category_id, handled, long_id, moment, price, respond, user_id
from foof.rest.wire import payload, upload_bytes

bp = Blueprint("rest_products", __name__)
UPLOAD_ENDPOINTS = ("rest_products.image",)


def first_image(imgurl):
    for part in (imgurl or "").split("++"):
        part = part.strip().replace("\\", "/")
        if part and part != DEFAULT_IMAGE:
            return "/" + part.lstrip("./")
    return "/"


def list_entry(row):
    """The list shape exactly as the seed shows it: the original's list query left the
    seller, category, tags, state and times out (null). ``row`` is one of
    :func:`foof.domain.products.on_sale`'s."""
    columns = row._mapping  # read by key: a page is 20 of these per request
    return {
        "id": long_id(columns["itemid"]),
        "seller": None,
        "name": columns["title"],
        "category": None,
        "description": columns["note"],
        "location": columns["location"],
        "price": price(columns["price"]),
        "img": first_image(columns["imgurl"]),
        "tags": None,
        "state": None,
        "createTime": None,
        "updateTime": None,
    }


def first_page():
    """``GET /products`` without a query string: the first page (20), as the route answers
    it. The legacy face's hot path (foof/legacy/hot.py) answers that request with this
    without Flask's request cycle; it finds it in ``app.extensions`` (the legacy face may
    not import this one)."""
    reply = respond([list_entry(row) for row in products.on_sale()])
    return reply.status, reply.headers.to_wsgi_list(), reply.get_data()


@bp.record_once
def _offer_hot_read(state):
    state.app.extensions.setdefault(HOT_READS, {})["/products"] = first_page


#: ``app.extensions`` key: plain GET paths of this face the hot path may answer -> answer().
HOT_READS = "foof.hot_reads"


def logged_in():
    """Whether the caller is logged in (cookie or Bearer). A request with neither is
    anonymous without touching the session (no cookie set or cleared for it)."""
    if "Authorization" not in request.headers and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False
    try:
        auth.current_user()
    except BadToken:
        return False
    return True


def detail_entry(item, details):
    """The detail; ``sellerPhone`` only for a logged-in viewer and only when the seller
    published it (docs/rest-api.md; issue #11: anyone could walk the ids and collect phones)."""
    seller = accounts.get(item.uuid)
    from foof.rest.users import detail_of

    seller_detail = detail_of(seller)
    phone = products.published_phone(item.uuid) if logged_in() else None
    return {
        "id": long_id(item.itemid),
        "seller": user_id(item.uuid),
        "sellerAlias": seller_detail["alias"],
        "sellerAvatar": seller_detail["avatar"],
        "sellerPhone": phone,
        "name": item.title,
        "category": category_id(item.type),
        "description": item.note,
        "location": details.location if details else None,
        "price": price(item.price),
        "img": first_image(item.imgurl),
        "tags": details.tags if details else None,
        "state": products.state_of(item),
        "createTime": moment(details.created_at) if details else None,
        "updateTime": moment(details.updated_at) if details else None,
    }


@bp.get("/products")
@handled
def everything():
    rows = products.on_sale(request.args.get("page"), request.args.get("size"))
    return [list_entry(row) for row in rows]


@bp.get("/products/<cid>")
@handled
def by_category(cid):
    rows = products.on_sale(request.args.get("page"), request.args.get("size"), category=cid)
    return [list_entry(row) for row in rows]


@bp.get("/products/detail/<pid>")
@handled
def detail(pid):
    return detail_entry(*products.detail(pid))


@bp.post("/products")
@handled
def add():
    user = auth.current_user()
    return str(products.add(user.uuid, payload()))  # unpadded, as the seed shows ("17")


@bp.patch("/products/<pid>")
@handled
def update(pid):
    user = auth.current_user()
    products.update_product(user.uuid, pid, payload())
    return None


@bp.route("/products/img/<pid>", methods=["PATCH", "POST"], endpoint="image")
@handled
def image(pid):
    user = auth.current_user()
    return products.set_image(user.uuid, pid, upload_bytes())


@bp.delete("/products/<pid>")
@handled
def take_down(pid):
    user = auth.current_user()
    products.take_down(user.uuid, pid)
    return None
