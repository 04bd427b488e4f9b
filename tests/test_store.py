"""The store interface on both backends (SQLite, PostgreSQL) holds the guarantees its callers rely on, and
`harness store init|reset|check` and `serve --store` treat an operator's mistakes with exit 2 and a message."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from harness.settings import Settings
from harness.store import SqliteStore, Store
from harness.store_postgres import redacted_url
from harness.stores import open_store
from harness.testing.live import ProcessServer, free_port
from harness.testing.sunbird import gateway_bearer

REGISTER_V1 = "/api/api-manager/v1/consumer/mobile_device/credential/register"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    if request.param == "sqlite":
        yield "sqlite", Settings(state_dir=tmp_path / "state")
    else:
        yield "postgresql", Settings(state_dir=tmp_path / "unused", store_url=request.getfixturevalue("store_url"))


def _counter_table(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS t_counter (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        tx.execute("INSERT INTO t_counter (name, n) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", ("c", 0))


def test_a_read_then_write_transaction_loses_no_update_across_stores_and_threads(backend):
    _, settings = backend
    stores = [open_store(settings), open_store(settings)]  # two processes' worth of connections
    _counter_table(stores[0])

    def bump(store: Store) -> None:
        for _ in range(25):
            with store.transaction() as tx:
                n = tx.execute("SELECT n FROM t_counter WHERE name = ?", ("c",)).fetchone()["n"]
                tx.execute("UPDATE t_counter SET n = ? WHERE name = ?", (n + 1, "c"))

    threads = [threading.Thread(target=bump, args=(stores[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[1].one("SELECT n FROM t_counter WHERE name = ?", ("c",))[0] == 200
    for store in stores:
        store.close()


def test_a_failed_transaction_leaves_nothing_behind(backend):
    _, settings = backend
    store = open_store(settings)
    _counter_table(store)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("UPDATE t_counter SET n = 99 WHERE name = ?", ("c",))
        raise RuntimeError("the handler failed half-way")
    assert store.one("SELECT n FROM t_counter WHERE name = ?", ("c",))["n"] == 0
    store.close()


def test_rows_read_by_name_and_position_and_numbers_move_atomically(backend):
    _, settings = backend
    first, second = open_store(settings), open_store(settings)
    with first.transaction() as tx:
        first.set_meta(tx, "written", "by first")
    row = second.one("SELECT name, value FROM meta WHERE name = ?", ("written",))
    assert row is not None and row[0] == row["name"] == "written" and row[1] == "by first"
    assert list(row.keys()) == ["name", "value"]
    assert first.meta("made-once", lambda: "a") == second.meta("made-once", lambda: "b") == "a"
    assert first.secret("s") == second.secret("s")
    name = f"n-{uuid.uuid4().hex[:6]}"
    number, other = first.shared_number(name), second.shared_number(name)
    threads = [threading.Thread(target=lambda: [number.add(1) for _ in range(50)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.get() == 200.0, "every add of every process counted, seen by another store object"
    first.close()
    second.close()


def test_the_postgresql_store_keeps_nothing_under_the_state_directory(store_url, tmp_path):
    from harness.server import initialize_state

    ctx = initialize_state(Settings(state_dir=tmp_path / "state", store_url=store_url))
    ctx.clock.advance(5)
    ctx.faults.arm({"operation": "getGeneralData", "status": 503})
    ctx.store.close()
    assert not (tmp_path / "state").exists()
    assert ctx.store.describe() == f"store: {store_url}"


def test_the_url_shown_never_carries_the_password():
    assert redacted_url("postgresql://harness:s3cret@db.internal:5432/harness") == \
        "postgresql://harness:***@db.internal:5432/harness"


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=120)


def test_store_check_init_reset_as_an_operator_runs_them(postgres):
    url = postgres.new_database()
    empty = _harness("store", "check", "--store", url)
    assert empty.returncode == 1 and "no core tables yet: `harness store init`" in empty.stderr, empty.stderr
    for _ in range(2):  # idempotent
        init = _harness("store", "init", "--store", url)
        assert init.returncode == 0 and "schema current" in init.stdout, init.stderr
    assert _harness("store", "check", "--store", url).returncode == 0
    with ProcessServer(Path("/nonexistent-state"), 1, None, "--store", url) as server:
        bearer = {"Authorization": f"Bearer {gateway_bearer('mobile_app')}"}
        secret = httpx.post(server.url + REGISTER_V1, headers=bearer,
                            json={"request": {"key": "operator-device"}}).json()["result"]["secret"]
        httpx.post(server.url + "/__harness/clock", json={"advance": 3600})
        assert _harness("store", "init", "--store", url).returncode == 0
        again = httpx.post(server.url + REGISTER_V1, headers=bearer, json={"request": {"key": "operator-device"}})
        assert again.json()["result"]["secret"] == secret, "init again changed nothing"
        reset = _harness("store", "reset", "--store", url)
        assert reset.returncode == 0 and "demo data" in reset.stdout, reset.stderr
        assert httpx.get(server.url + "/__harness/clock").json()["offset_seconds"] == 0
        renewed = httpx.post(server.url + REGISTER_V1, headers=bearer, json={"request": {"key": "operator-device"}})
        assert renewed.json()["result"]["secret"] != secret, "the registered credential went with the reset"


def test_a_store_made_by_another_version_is_refused_until_reset(store_url, tmp_path):
    with psycopg.connect(store_url) as conn:
        conn.execute("UPDATE harness.meta SET value = 'from-another-version' WHERE name = 'schema:ekool'")
    check = _harness("store", "check", "--store", store_url)
    assert check.returncode == 1 and "ekool tables were made by another version" in check.stderr, check.stderr
    serve = _harness("serve", "--store", store_url, "--port", str(free_port()), "--state", str(tmp_path))
    assert serve.returncode == 2 and "another version of the harness" in serve.stderr, serve.stderr
    assert "harness store reset" in serve.stderr and "Traceback" not in serve.stderr
    reset = _harness("store", "reset", "--store", store_url)
    assert reset.returncode == 0 and "dropped" in reset.stdout, reset.stderr
    assert _harness("store", "check", "--store", store_url).returncode == 0


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://harness@127.0.0.1/harness", "is not a PostgreSQL URL"),
    ("postgresql://harness:pw@127.0.0.1:1/harness", "cannot reach the PostgreSQL store "
                                                    "postgresql://harness:***@127.0.0.1:1/harness"),
])
def test_a_wrong_store_url_exits_2_naming_it_without_its_password(url, message, tmp_path):
    for args in (("serve", "--port", str(free_port())), ("store", "check"), ("store", "init")):
        result = _harness(*args, "--store", url, "--state", str(tmp_path))
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert ":pw@" not in result.stderr and "Traceback" not in result.stderr


def test_the_sqlite_store_is_the_default_and_check_reads_it(tmp_path):
    assert isinstance(open_store(Settings(state_dir=tmp_path)), SqliteStore)
    assert _harness("store", "check", "--state", str(tmp_path / "new")).returncode == 1
    assert _harness("store", "init", "--state", str(tmp_path / "new")).returncode == 0
    assert _harness("store", "check", "--state", str(tmp_path / "new")).returncode == 0
