"""``flask --app foof seed-demo``: fill a database with realistic demo data, quickly.

Rows go in with bulk inserts in batches; every demo account shares one password hash
(computing a slow hash per account would take minutes for 10,000 users), so demo accounts
log in with ``demo123`` typed in the app, i.e. ``password=<sha1 of demo123>`` over the API.
"""

import hashlib
import io
import random
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, update

from foof import demo
from foof.domain import clock, media, passwords
from foof.domain.accounts import DEFAULT_AVATAR, DEFAULT_INFO
from foof.extensions import db
from foof.models import Chat, Favourite, Item, User
from foof.schema import create_schema, rebuild_search_index

DEMO_PASSWORD = "demo123"
BATCH = 1000
IMAGE_LIMIT = 2000  # items beyond this keep the default picture (keeps the media folder tiny)
COLOURS = {
    1: (70, 130, 180),
    2: (205, 92, 92),
    3: (60, 179, 113),
    4: (238, 130, 238),
    5: (244, 164, 96),
    6: (106, 90, 205),
    7: (255, 165, 0),
    8: (128, 128, 128),
}


def batches(rows, size=BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tiny_jpeg(kind):
    out = io.BytesIO()
    from PIL import Image  # imported here: the server never needs Pillow until an upload

    Image.new("RGB", (48, 48), COLOURS[kind]).save(out, "JPEG", quality=60)
    return out.getvalue()


@click.command("seed-demo")
@with_appcontext
@click.option("--users", default=50, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--items", default=300, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option(
    "--messages",
    default=None,
    type=click.IntRange(0, 100_000_000),
    help="Chat messages to create (default: 2 per item).",
)
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
def seed_demo(users, items, messages, seed):
    """Fill the database with demo users, listings, favourites, chats and a few orders."""
    create_schema()
    rng = random.Random(seed)
    password = passwords.hash_password(hashlib.sha1(DEMO_PASSWORD.encode()).hexdigest())
    first_uuid = (db.session.execute(select(func.max(User.uuid))).scalar() or 0) + 1
    first_phone = 13000000000 + first_uuid
    taken = set(db.session.execute(select(User.phonenumber)).scalars())
    user_rows = []
    for n in range(users):
        phone = str(first_phone + n)
        while phone in taken:
            phone = str(int(phone) + 1_000_000)
        taken.add(phone)
        user_rows.append(
            {
                "password": password,
                "username": rng.choice(demo.NAMES) + str(first_uuid + n),
                "phonenumber": phone,
                "idcard": f"2131{70000 + n:05d}",
                "studentid": str(71120000 + n),
                "address": rng.choice(demo.PLACES),
                "avatarurl": DEFAULT_AVATAR,
                "verified": int(rng.random() < 0.3),
                "score": rng.randint(5, 100),
                "info": DEFAULT_INFO,
            }
        )
    with click.progressbar(length=users, label="users") as bar:
        for batch in batches(user_rows):
            db.session.execute(insert(User), batch)
            db.session.commit()
            bar.update(len(batch))
    uuids = list(db.session.execute(select(User.uuid).order_by(User.uuid)).scalars())[-users:]
    rows = demo.listings(items, len(uuids), seed)
    with click.progressbar(length=items, label="items") as bar:
        for batch in batches(rows):
            for row in batch:
                row["uuid"] = uuids[row["uuid"] - 1]
            db.session.execute(insert(Item), batch)
            db.session.commit()
            bar.update(len(batch))
    new_items = list(
        db.session.execute(select(Item.itemid, Item.uuid, Item.type).order_by(Item.itemid.desc()).limit(items)).all()
    )[::-1]
    _images(new_items[:IMAGE_LIMIT])
    _favourites(rng, new_items, uuids)
    _orders(rng, new_items, uuids)
    count = _messages(rng, new_items, uuids, 2 * items if messages is None else messages)
    rebuild_search_index(current_app.extensions["foof.search"])  # bulk inserts bypass the change events
    click.echo(
        f"seeded {users} users, {items} items, {count} messages "
        f"(demo password: {DEMO_PASSWORD}, API password "
        f"{hashlib.sha1(DEMO_PASSWORD.encode()).hexdigest()})"
    )
    click.echo(describe_phones([row["phonenumber"] for row in user_rows]))


def describe_phones(phones):
    """The demo accounts' phone numbers as they were really created (on a database that already
    had users they do not start at 13000000001, and taken numbers were skipped)."""
    numbers = sorted(int(p) for p in phones)
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        span = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]} to {numbers[-1]}"
        return f"demo accounts log in with phone numbers {span}"
    shown = ", ".join(map(str, numbers[:5])) + (", …" if len(numbers) > 5 else "")
    return f"demo accounts log in with {len(numbers)} phone numbers from {numbers[0]} to {numbers[-1]}: {shown}"


def _images(items):
    root = current_app.config["FOOF_MEDIA_ROOT"]
    pictures = {kind: _tiny_jpeg(kind) for kind in COLOURS}
    with click.progressbar(items, label="images") as bar:
        for itemid, uuid, kind in bar:
            name = f"item/{uuid}-{itemid}-0.jpg"
            media.write_atomic(root, name, pictures[kind])
            db.session.execute(update(Item).where(Item.itemid == itemid).values(imgurl=f"image/{name}++"))
    db.session.commit()


def _favourites(rng, items, uuids):
    if not items:
        return
    pairs = {(rng.choice(uuids), rng.choice(items)[0]) for _ in range(len(items) // 2)}
    for batch in batches([{"uuid": u, "itemid": i} for u, i in sorted(pairs)]):
        db.session.execute(insert(Favourite), batch)
    db.session.commit()


def _orders(rng, items, uuids):
    """A few reservations and finished sales, as the legacy trade flow leaves them."""
    for itemid, owner, _ in rng.sample(items, k=min(len(items), max(1, len(items) // 20))):
        buyers = [u for u in uuids if u != owner]
        if not buyers:
            continue
        current = db.session.get(Item, itemid)
        sign = 1 if current.sold > 0 else -1
        current.sold = sign * rng.choice([2, 3])
        current.to = rng.choice(buyers)
    db.session.commit()


def _messages(rng, items, uuids, count):
    if len(uuids) < 2 or not items:
        return 0
    start = clock.now() - timedelta(days=30)
    rows = []
    for n in range(count):
        itemid, owner, _ = rng.choice(items)
        sender = rng.choice(uuids)
        if sender == owner:
            sender = uuids[(uuids.index(owner) + 1) % len(uuids)]
        want = rng.random() < 0.2
        moment = start + timedelta(seconds=int(n * 30 * 86400 / max(1, count)))
        rows.append(
            {
                "sender": sender,
                "to": owner,
                "type": 0 if want else 1,
                "data": str(itemid) if want else rng.choice(demo.CHAT_LINES),
                "fetched": rng.random() < 0.8,
                "createdAt": moment,
                "updatedAt": moment,
            }
        )
    with click.progressbar(length=count, label="messages") as bar:
        for batch in batches(rows, 5000):
            db.session.execute(insert(Chat), batch)
            db.session.commit()
            bar.update(len(batch))
    return count
