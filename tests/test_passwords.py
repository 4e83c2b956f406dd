"""Password hashing (foof/domain/passwords.py): Argon2id by default, old hashes upgraded on
the next correct login, at most FOOF_HASH_SLOTS hashes at once, and other requests answered
while logins wait for a hash."""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from foof.domain import passwords
from foof.extensions import db
from foof.models import User

PHONE = "13800000001"
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def stored_hash(app, uuid):
    with app.app_context():
        value = db.session.execute(select(User.password).where(User.uuid == uuid)).scalar()
        db.session.rollback()
        return value


def set_hash(app, uuid, value):
    with app.app_context():
        db.session.execute(update(User).where(User.uuid == uuid).values(password=value))
        db.session.commit()


def login(client, password, phone=PHONE):
    return client.post("/user/login", data={"phonenumber": phone, "password": password}).get_json()


# --- the method setting ----------------------------------------------------------------


def test_the_default_method_is_argon2id_at_owasps_7_mib_5_passes():
    from foof.config import DEFAULTS

    method = passwords.parse_method(DEFAULTS["FOOF_PASSWORD_HASH_METHOD"])
    assert method.text == "argon2id:m=7168,t=5,p=1"
    parameters = extract_parameters(method.make("x"))
    assert (parameters.type.name, parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
        "ID",
        7168,
        5,
        1,
    )


@pytest.mark.parametrize(
    "text, normal",
    [
        ("argon2id:m=19456,t=2,p=1", "argon2id:m=19456,t=2,p=1"),
        ("argon2id:t=3,m=12288", "argon2id:m=12288,t=3,p=1"),
        ("argon2id:m=65536,t=3,p=4", "argon2id:m=65536,t=3,p=4"),
        (" argon2id ", "argon2id:m=7168,t=5,p=1"),
    ],
)
def test_argon2id_parameters_at_or_above_an_owasp_row_are_accepted(text, normal):
    assert passwords.parse_method(text).text == normal


@pytest.mark.parametrize(
    "text, normal",
    [
        ("scrypt", "scrypt:32768:8:1"),
        ("scrypt:131072:8:1", "scrypt:131072:8:1"),
        ("pbkdf2", "pbkdf2:sha256:1000000"),
        ("pbkdf2:sha512", "pbkdf2:sha512:1000000"),
        ("pbkdf2:sha256:1000", "pbkdf2:sha256:1000"),
    ],
)
def test_werkzeug_methods_are_kept_as_werkzeug_writes_them(text, normal):
    assert passwords.parse_method(text).werkzeug == normal


@pytest.mark.parametrize(
    "text, says",
    [
        ("argon2id:m=19455,t=2", "below OWASP"),  # a KiB under the 19 MiB row
        ("argon2id:m=7168,t=4", "below OWASP"),  # 7 MiB needs 5 passes
        ("argon2id:m=65536,t=1", "below OWASP"),  # one pass is never enough
        ("argon2id:m=19456,t=2,p=0", "below OWASP"),
        ("argon2id:m=19456,t=two", "expected"),
        ("argon2id:m=19456,m=19456", "expected"),
        ("argon2id:x=1", "expected"),
        ("argon2id:m=99999999,t=2", "out of range"),
        ("argon2i", "unknown method"),
        ("bcrypt", "unknown method"),
        ("", "must name a method"),
        ("scrypt:1000:8:1", "power of 2"),
        ("scrypt:16384:8", "expected"),
        ("pbkdf2:md6", "unknown hash"),
        ("pbkdf2:sha256:0", "positive integer"),
        ("pbkdf2:sha256:1:2", "expected"),
    ],
)
def test_a_bad_method_is_refused_with_a_clear_error(text, says):
    with pytest.raises(ValueError, match=says) as refused:
        passwords.parse_method(text)
    assert "FOOF_PASSWORD_HASH_METHOD" in str(refused.value)


@pytest.mark.parametrize(
    "key, value",
    [
        ("FOOF_HASH_SLOTS", -1),
        ("FOOF_HASH_SLOTS", "2"),
        ("FOOF_HASH_WAITING", -1),
        ("FOOF_HASH_NICE", 20),
        ("FOOF_HASH_WAIT", 0),
        ("FOOF_HASH_WAIT", True),
    ],
)
def test_bad_hash_limits_are_refused_naming_the_key(key, value):
    from foof.config import DEFAULTS

    settings = dict(DEFAULTS, **{key: value})
    with pytest.raises(ValueError, match=key):
        passwords.configure(settings)


def test_slots_default_to_the_cores_this_process_may_use():
    import os

    from foof.config import DEFAULTS

    hashing = passwords.configure(DEFAULTS)
    assert hashing.pool.slots == len(os.sched_getaffinity(0)) >= 1
    assert hashing.waiting == 16


# --- checking and upgrading --------------------------------------------------------------


@pytest.fixture
def argon2_app(config):
    config["FOOF_PASSWORD_HASH_METHOD"] = "argon2id"
    return config


def upgraded(app, client, uuid, old_hash, password):
    set_hash(app, uuid, old_hash)
    assert login(client, password)["status"] == "success"
    new = stored_hash(app, uuid)
    assert new != old_hash
    return new


@pytest.mark.parametrize(
    "make_old",
    [
        lambda pw: generate_password_hash(pw, method="scrypt:1024:8:1"),
        lambda pw: generate_password_hash(pw, method="scrypt"),  # werkzeug's default, the old one here
        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"),
        lambda pw: pw,  # the old server's rows: the client's string itself
        lambda pw: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(pw),  # weaker Argon2id
        lambda pw: PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(pw),  # another OWASP row
    ],
    ids=["scrypt-small", "scrypt-default", "pbkdf2", "clear", "argon2-weak", "argon2-other-row"],
)
def test_a_correct_login_replaces_any_older_hash_by_current_argon2id(argon2_app, app, client, make_user, make_old):
    password = sha1("secret")
    uuid = make_user(PHONE, password)
    new = upgraded(app, client, uuid, make_old(password), password)
    assert new.startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    # the new hash logs in, and is left alone from then on
    assert login(client, password)["status"] == "success"
    assert stored_hash(app, uuid) == new
    assert login(client, sha1("wrong")) == {"status": "failure", "info": "password incorrect"}


def test_a_wrong_password_leaves_an_old_hash_alone(argon2_app, app, client, make_user):
    password = sha1("secret")
    uuid = make_user(PHONE, password)
    old = generate_password_hash(password, method="scrypt:1024:8:1")
    set_hash(app, uuid, old)
    assert login(client, sha1("other")) == {"status": "failure", "info": "password incorrect"}
    assert stored_hash(app, uuid) == old


def test_a_current_argon2id_row_is_made_at_registration(argon2_app, app, make_user):
    uuid = make_user(PHONE, sha1("secret"))
    assert stored_hash(app, uuid).startswith("$argon2id$v=19$m=7168,t=5,p=1$")


def test_tests_keep_their_cheap_pbkdf2_and_upgrade_scrypt_to_it(app, client, make_user):
    password = sha1("secret")
    uuid = make_user(PHONE, password)
    assert stored_hash(app, uuid).startswith("pbkdf2:sha256:1000$")
    new = upgraded(app, client, uuid, generate_password_hash(password, method="scrypt:1024:8:1"), password)
    assert new.startswith("pbkdf2:sha256:1000$")


@pytest.mark.parametrize(
    "damaged",
    [
        "$argon2id$v=19$m=7168,t=5,p=1$bm90IGJhc2U2NA$",
        "$argon2id$v=19$m=x,t=5,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$garbage",
        "pbkdf2:sha256:notanumber$salt$abcd",
        "scrypt:3:8:1$salt$abcd",
        "pbkdf2:nohash:1000$salt$abcd",
    ],
)
def test_a_damaged_stored_hash_refuses_the_login_without_a_crash(app, client, make_user, damaged):
    uuid = make_user(PHONE, "x")
    set_hash(app, uuid, damaged)
    assert login(client, "x") == {"status": "failure", "info": "password incorrect"}
    assert stored_hash(app, uuid) == damaged


# --- at most FOOF_HASH_SLOTS at once --------------------------------------------------------


@pytest.fixture
def gated(monkeypatch):
    """Replaces the hash computation by one that records how many run at once and, while
    ``hold`` is clear, blocks: ``gated.running``, ``gated.peak``, ``gated.hold``."""
    state = threading.local()
    gate = type("Gate", (), {})()
    gate.lock = threading.Lock()
    gate.running = gate.peak = gate.calls = 0
    gate.hold = threading.Event()
    gate.hold.set()
    real = passwords._verify

    def verify(stored, password):
        with gate.lock:
            gate.running += 1
            gate.calls += 1
            gate.peak = max(gate.peak, gate.running)
        state.entered = True
        try:
            assert gate.hold.wait(30)
            time.sleep(0.02)
            return real(stored, password)
        finally:
            with gate.lock:
                gate.running -= 1

    monkeypatch.setattr(passwords, "_verify", verify)
    return gate


def wait_until(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def run_at_once(app, count, call):
    answers = [None] * count
    start = threading.Barrier(count)

    def one(i):
        client = app.test_client()
        start.wait()
        answers[i] = call(client, i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers


@pytest.fixture
def slots(request, config):
    """Hash limits of the test's app, from ``@pytest.mark.parametrize("slots", [...], indirect=True)``."""
    config.update(request.param)
    return request.param


@pytest.fixture
def pool(slots, app):
    with app.app_context():
        return passwords._hashing().pool


@pytest.mark.parametrize("slots", [{"FOOF_HASH_SLOTS": 3}], indirect=True)
def test_twelve_logins_at_once_run_at_most_slots_hashes_together(pool, app, gated):
    phones = [f"1380000{i:04d}" for i in range(12)]
    with app.app_context():
        from foof.domain import accounts

        for phone in phones:
            accounts.create_user(phone, "pw")
    threads, answers = run_at_once(app, 12, lambda c, i: login(c, "pw", phones[i]))
    for thread in threads:
        thread.join(60)
    assert [a["status"] for a in answers] == ["success"] * 12
    assert gated.calls == 12
    assert gated.peak == pool.slots == 3  # never more than the slots, and all of them used


@pytest.mark.parametrize("slots", [{"FOOF_HASH_SLOTS": 2}], indirect=True)
def test_a_non_login_request_answers_while_logins_wait_for_a_hash(pool, app, client, make_user, make_item, gated):
    uuid = make_user(PHONE, "pw")
    itemid = make_item(uuid)
    gated.hold.clear()  # the hash threads block: logins pile up waiting
    threads, answers = run_at_once(app, 5, lambda c, i: login(c, "pw"))
    wait_until(lambda: pool.pending >= 5 and gated.running == 2)
    started = time.monotonic()
    reply = client.get(f"/item/{itemid}")
    assert reply.status_code == 200 and reply.get_json()["status"] == "success"
    assert time.monotonic() - started < 5
    assert all(answer is None for answer in answers)  # the logins are still waiting
    gated.hold.set()
    for thread in threads:
        thread.join(60)
    assert [a["status"] for a in answers] == ["success"] * 5
    assert gated.peak == 2


@pytest.mark.parametrize("slots", [{"FOOF_HASH_SLOTS": 1, "FOOF_HASH_WAITING": 2}], indirect=True)
def test_beyond_the_waiting_requests_a_login_is_too_frequent_at_once(pool, app, make_user, gated):
    make_user(PHONE, "pw")
    gated.hold.clear()
    threads, answers = run_at_once(app, 3, lambda c, i: login(c, "pw"))  # 1 running + 2 waiting
    wait_until(lambda: pool.pending == 3)
    started = time.monotonic()
    assert login(app.test_client(), "pw") == TOO_FREQUENT
    assert time.monotonic() - started < 2
    gated.hold.set()
    for thread in threads:
        thread.join(60)
    assert [a["status"] for a in answers] == ["success"] * 3
    assert login(app.test_client(), "pw")["status"] == "success"  # room again


@pytest.mark.parametrize(
    "slots", [{"FOOF_HASH_SLOTS": 1, "FOOF_HASH_WAITING": 5, "FOOF_HASH_WAIT": 0.3}], indirect=True
)
def test_a_login_that_waits_too_long_for_a_slot_is_too_frequent(pool, app, make_user, gated):
    make_user(PHONE, "pw")
    gated.hold.clear()
    threads, answers = run_at_once(app, 1, lambda c, i: login(c, "pw"))
    wait_until(lambda: gated.running == 1)
    started = time.monotonic()
    assert login(app.test_client(), "pw") == TOO_FREQUENT
    assert 0.25 <= time.monotonic() - started < 5
    assert pool.pending == 1  # the one that gave up is gone from the queue
    gated.hold.set()
    threads[0].join(60)
    assert answers[0]["status"] == "success"


def test_hash_threads_run_at_a_lower_priority(app):
    import os

    with app.app_context():
        hashing = passwords._hashing()
        nice = hashing.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert hashing.pool.nice == 19
    assert nice == 19 > mine  # the lowest priority, and the caller's is left as it was


@pytest.mark.parametrize(
    "slots", [{"FOOF_HASH_SLOTS": 1, "FOOF_HASH_WAITING": 0, "FOOF_HASH_WAIT": 0.2}], indirect=True
)
def test_a_new_hash_waits_its_turn_instead_of_being_refused(pool, app, client, make_user, token_for, gated):
    uuid = make_user(PHONE, "pw")
    gated.hold.clear()
    threads, answers = run_at_once(app, 1, lambda c, i: login(c, "pw"))  # takes the only slot
    wait_until(lambda: gated.running == 1)
    assert login(app.test_client(), "pw") == TOO_FREQUENT  # a login may not wait at all here
    changed = []

    def change():  # /user/modify hashes the new password: its route has no "too frequent"
        answer = app.test_client().post("/user/modify", data={"token": token_for(uuid), "password": "new"})
        changed.append((answer.status_code, answer.get_json()))

    changer = threading.Thread(target=change)
    changer.start()
    wait_until(lambda: pool.pending == 2)
    time.sleep(0.4)  # longer than FOOF_HASH_WAIT: still waiting, not refused
    assert changed == []
    gated.hold.set()
    changer.join(60)
    threads[0].join(60)
    assert changed == [(200, {"status": "success"})]
    assert stored_hash(app, uuid).startswith("pbkdf2:sha256:1000$")
    assert login(app.test_client(), "new")["status"] == "success"


def test_a_forked_child_starts_its_own_hash_threads(app):
    import os
    import warnings

    with app.app_context():
        stored = passwords.hash_password("y")  # the parent's hash threads exist now
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a threaded process may deadlock: this child only
            # runs passwords.check, whose threads it must start itself.
            warnings.simplefilter("ignore", DeprecationWarning)
            child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            try:  # without new threads: HashBusy after FOOF_HASH_WAIT, nothing written
                ok = passwords.check(stored, "y")[0]
                os.write(write, b"ok" if ok else b"no")
            finally:
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(child, 0)
        with os.fdopen(read, "rb") as fh:
            assert fh.read() == b"ok" and status == 0


def test_create_app_refuses_a_method_below_owasp(config):
    from foof import create_app

    config["FOOF_PASSWORD_HASH_METHOD"] = "argon2id:m=1024,t=1,p=1"
    with pytest.raises(ValueError):
        create_app(config)


def test_an_upgrade_never_overwrites_a_password_changed_during_the_check(app, client, make_user, monkeypatch):
    """The slow check of an old hash runs without a transaction; a password change that
    commits meanwhile must survive the upgrade that follows the (old) correct password."""
    uuid = make_user(PHONE, sha1("old"))
    set_hash(app, uuid, generate_password_hash(sha1("old"), method="pbkdf2:sha256:1001"))  # not current: upgraded
    real_check = passwords.check
    newer = generate_password_hash(sha1("new"), method="pbkdf2:sha256:1000")

    def check_then_change(stored, password):
        result = real_check(stored, password)
        set_hash(app, uuid, newer)  # another request changes the password while this one checks
        return result

    monkeypatch.setattr(passwords, "check", check_then_change)
    login(client, sha1("old"))
    assert stored_hash(app, uuid) == newer


# --- spare hash threads pause while other requests keep the service busy ---------------------


@pytest.fixture
def busy_service():
    """``start()``: from now on other requests arrive ~200 a second (as the I/O thread and
    Flask note them) until the test ends."""
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            passwords.traffic.note()
            time.sleep(0.005)

    thread = threading.Thread(target=traffic, daemon=True)
    yield lambda: thread.start()
    stop.set()
    if thread.is_alive():
        thread.join(5)


def hashes_at_once(pool, count=6, seconds=0.05):
    """Runs ``count`` jobs of ``seconds`` on ``pool`` from as many threads; the most that ran
    together."""
    lock, state = threading.Lock(), {"running": 0, "peak": 0}

    def job():
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(seconds)
        with lock:
            state["running"] -= 1
        return True

    with ThreadPoolExecutor(count) as workers:
        assert all(workers.map(lambda _: pool.run(job, count, 30), range(count)))
    return state["peak"]


def test_a_login_storm_alone_uses_every_slot():
    assert hashes_at_once(passwords.HashPool(2, 0, yielding=True)) == 2


def test_while_other_requests_keep_coming_the_spare_slots_pause(busy_service):
    busy_service()
    time.sleep(0.1)
    assert passwords.traffic.busy()
    assert hashes_at_once(passwords.HashPool(3, 0, yielding=True)) == 1  # the first slot still works
    assert hashes_at_once(passwords.HashPool(3, 0, yielding=False)) == 3  # FOOF_HASH_YIELD off


def test_the_spare_slots_resume_once_the_traffic_stops():
    for _ in range(50):
        passwords.traffic.note()
    assert passwords.traffic.busy()
    time.sleep(2.5 * passwords.BUSY_WINDOW)
    assert not passwords.traffic.busy()
    assert hashes_at_once(passwords.HashPool(2, 0, yielding=True)) == 2


class CountingTraffic(passwords.Traffic):
    def __init__(self):
        super().__init__()
        self.notes = 0

    def note(self):
        self.notes += 1
        super().note()


@pytest.fixture
def counted(monkeypatch):
    counting = CountingTraffic()
    monkeypatch.setattr(passwords, "traffic", counting)
    return counting


def test_logins_do_not_count_as_other_traffic_but_reads_do(app, client, make_user, make_item, counted):
    uuid = make_user(PHONE, "pw")
    itemid = make_item(uuid)
    for _ in range(3):
        assert login(client, "pw")["status"] == "success"
    assert counted.notes == 0
    for _ in range(3):
        assert client.get(f"/item/{itemid}").status_code == 200
    assert counted.notes == 3


def test_hot_reads_on_the_io_thread_count_as_traffic(app, make_user, counted):
    """GET /user/<uuid> answered by waitress's I/O thread, never through Flask's hooks."""
    from tests.test_serving import Live

    uuid = make_user(PHONE, "pw")
    server = Live(app, inline=True)
    try:
        for _ in range(4):
            assert server.request("GET", f"/user/{uuid}")[0] == 200
        assert server.answered == 4
    finally:
        server.stop()
    assert counted.notes == 4


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_foof_hash_yield_must_be_a_boolean(config, value):
    from foof import create_app

    config["FOOF_HASH_YIELD"] = value
    with pytest.raises(ValueError, match="FOOF_HASH_YIELD"):
        create_app(config)


def test_a_login_waiting_long_gets_a_spare_slot_even_while_busy(busy_service):
    """Paused spare threads are a slowdown, never a starvation: once the oldest job waited
    PAUSE_AT_MOST, a spare thread takes it (so logins do not end "too frequent")."""
    busy_service()
    time.sleep(0.1)
    started = time.monotonic()
    assert hashes_at_once(passwords.HashPool(2, 0, yielding=True), count=4, seconds=0.6) == 2
    assert time.monotonic() - started < 4 * 0.6  # not one after another
