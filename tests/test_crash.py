"""Crash safety (issue 6): SIGKILL the service mid-write; every acknowledged write survives,
and ``reindex`` brings search back in line with the database."""

import http.client
import json
import os
import signal
import threading
import time
import urllib.error

from sqlalchemy import select

from foof.extensions import db
from foof.models import Chat, Item
from tests.conftest import http_post, start_server, stop_server


def _writer(url, token, other, tag, acked, stop):
    n = 0
    while not stop.is_set():
        n += 1
        title = f"考研资料{tag}号{n}"
        try:
            status, body = http_post(
                url + "/item/add",
                {
                    "token": token,
                    "title": title,
                    "type": "6",
                    "price": "5",
                    "depreciatione": "9",
                    "note": "图书馆自提",
                    "sold": "1",
                },
                timeout=5,
            )
            if status == 200 and b'"status":"success"' in body:
                acked.append(("item", json.loads(body)["data"]["itemid"], title))
            status, body = http_post(
                url + "/user/chat/push",
                {"token": token, "to": str(other), "type": "1", "data": f"{tag}-{n}"},
                timeout=5,
            )
            if status == 200 and body == b'{"status":"success"}':
                acked.append(("chat", None, f"{tag}-{n}"))
        except (urllib.error.URLError, http.client.HTTPException, OSError):
            return  # the server is gone


def test_sigkill_loses_no_acknowledged_write(app, config, make_user, token_for, runner, client):
    seller, other = make_user("1", "pw"), make_user("2", "pw")
    token = token_for(seller)
    proc, url = start_server(config)
    acked, stop = [], threading.Event()
    try:
        threads = [threading.Thread(target=_writer, args=(url, token, other, t, acked, stop)) for t in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for thread in threads:
            thread.join(10)
    finally:
        stop_server(proc)
    assert len(acked) >= 40
    items = {itemid: title for kind, itemid, title in acked if kind == "item"}
    chats = {data for kind, _, data in acked if kind == "chat"}
    with app.app_context():
        stored_items = dict(db.session.execute(select(Item.itemid, Item.title)).all())
        stored_chats = set(db.session.execute(select(Chat.data)).scalars())
    assert all(stored_items.get(itemid) == title for itemid, title in items.items())
    assert chats <= stored_chats
    # restart: the service comes back on the same database and index
    proc, url = start_server(config)
    try:
        status, body = http_post(url + "/user/me", {"token": token})
        assert status == 200 and json.loads(body)["uuid"] == seller
    finally:
        stop_server(proc)
    # the index may have missed changes in flight; reindex matches it to the database again
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    reply = client.post("/item/search", data={"method": "good", "query": "考研资料", "size": "100"}).json
    assert reply["hits"]["total"] == len(stored_items)
