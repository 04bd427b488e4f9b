"""The shared machinery: app assembly, admin endpoints, store, keys, slash normalisation."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from harness.clock import CLOCK, Clock, SharedNumber
from harness.crypto.keys import KeyRing
from harness.crypto.tokens import MalformedToken, sign_rs256, split
from harness.store import SqliteStore, StateDirError

CLOCK_FILE = f"{CLOCK}.bin"  # the SQLite store's shared number for the clock


def test_health_names_every_api(client):
    response = client.get("/__harness/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "apis": ["sunbird", "ekool"]}


def test_jwks_publishes_public_keys_only(client, app):
    body = client.get("/.well-known/jwks.json").json()
    assert body["keys"], "at least one signing key"
    assert {k["kid"] for k in body["keys"]} == set(app.ctx.keys.kids())
    for key in body["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256"
        assert "d" not in key and "p" not in key, "private parts must never be published"


def test_doubled_slash_is_answered_like_single(client):
    assert client.get("/api//.well-known/jwks.json").json() == client.get("/api/.well-known/jwks.json").json()


def test_keys_survive_a_new_store_on_the_same_directory(tmp_path):
    first = KeyRing(SqliteStore(tmp_path))
    first.ensure(["k1"])
    token = sign_rs256({"iss": "x"}, first, "k1")
    second = KeyRing(SqliteStore(tmp_path))
    assert jwt.decode(token, second.public("k1"), algorithms=["RS256"]) == {"iss": "x"}


def test_ensure_is_idempotent(tmp_path):
    ring = KeyRing(SqliteStore(tmp_path))
    ring.ensure(["a", "b"])
    pem = ring.public_pem("a")
    ring.ensure(["a", "b", "c"])
    assert ring.public_pem("a") == pem
    assert ring.kids() == ["a", "b", "c"]


def test_meta_value_is_created_once(tmp_path):
    store = SqliteStore(tmp_path)
    first = store.secret("session")
    assert SqliteStore(tmp_path).secret("session") == first


def test_unwritable_state_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateDirError, match="not writable"):
        SqliteStore(blocker / "state")


@pytest.mark.parametrize("token", ["", "a.b", "!!!.e30.x", "e30.bm90anNvbg.x", "W10.e30.x"])
def test_split_rejects_malformed_tokens(token):
    with pytest.raises(MalformedToken):
        split(token)


def test_landing_page_links_every_api(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/api/ui/" in page.text and "/ekool/ui/" in page.text and "jwks.json" in page.text


def test_a_spec_is_validated_once_per_state_and_content(tmp_path, monkeypatch):
    """connexion's spec validation is skipped only for a spec whose exact content already validated here."""
    from connexion.exceptions import InvalidSpecification
    from connexion.spec import Specification

    from harness.server import _spec_validation_remembered
    from harness.specs import load_spec

    original = Specification.__dict__["_validate_spec"]
    validated: list[str] = []

    def counting(cls, spec):
        validated.append(spec["info"]["title"])
        original.__func__(cls, spec)

    monkeypatch.setattr(Specification, "_validate_spec", classmethod(counting))
    store = SqliteStore(tmp_path)
    spec = load_spec("ekool")
    with _spec_validation_remembered(store):
        Specification.from_dict(load_spec("ekool"))
        Specification.from_dict(load_spec("ekool"))
    assert len(validated) == 1
    edited = {**spec, "paths": {**spec["paths"], "/broken": {"get": {"responses": "not a mapping"}}}}
    with _spec_validation_remembered(store), pytest.raises(InvalidSpecification):
        Specification.from_dict(edited)
    assert len(validated) == 2
    assert Specification.__dict__["_validate_spec"].__func__ is counting  # restored after the build


def test_a_token_request_logs_no_connexion_warning(client, caplog):
    """connexion warns per request on an operation with several body media types; `harness serve` silences it
    (a plain-CLI schemathesis run once left 20,000 such lines in the server log)."""
    with caplog.at_level(logging.WARNING):
        for body in ({"data": {"grant_type": "refresh_token"}}, {"json": {"grant_type": "refresh_token"}}):
            assert client.post("/oauth/token", **body).status_code == 400
    assert [r.getMessage() for r in caplog.records if "content types" in r.getMessage()] == []


def test_clocks_on_one_state_dir_share_one_offset(tmp_path):
    """What every worker of one server sees (issue 14): a move through one clock is the other's at once."""
    first, second = Clock.shared(SharedNumber(tmp_path / CLOCK_FILE)), Clock.shared(SharedNumber(tmp_path / CLOCK_FILE))
    first.advance(3600)
    assert second.offset == 3600 and abs(second.now() - time.time() - 3600) < 1
    second.set_to(1_798_761_600)
    assert abs(first.now() - 1_798_761_600) < 1
    first.reset()
    assert second.offset == 0
    assert Clock.shared(SharedNumber(tmp_path / CLOCK_FILE)).offset == 0 and Clock().offset == 0


def test_a_clock_left_mid_write_by_a_dead_writer_is_repaired(tmp_path):
    clock = Clock.shared(SharedNumber(tmp_path / CLOCK_FILE))
    clock.advance(60)
    path = tmp_path / CLOCK_FILE
    raw = bytearray(path.read_bytes())
    raw[0] |= 1  # an odd sequence: a write that never finished
    path.write_bytes(bytes(raw))
    assert Clock.shared(SharedNumber(tmp_path / CLOCK_FILE)).offset == 60
    assert path.read_bytes()[0] & 1 == 0


def test_landing_page_shows_the_clock_and_the_admin_api(client):
    assert "real time" in client.get("/").text
    client.post("/__harness/clock", json={"advance": "1h"})
    page = client.get("/").text
    assert "moved by +3600 s" in page and "/__harness/ui/" in page and "/__harness/requests" in page
    assert "No faults armed" in page
    client.post("/__harness/faults", json={"operation": "getMyBasic", "status": 503, "count": 2})
    assert "&quot;status&quot;: 503" in client.get("/").text and "2 left" in client.get("/").text


def test_landing_page_lists_the_latest_journal_entries_and_refresh_failures(client):
    assert "No API requests yet" in client.get("/").text
    client.get("/user/me/basic")
    client.post("/oauth/token", data={"grant_type": "password"})
    client.post("/__harness/refresh-failures", json={"api": "ekool", "count": 2})
    page = client.get("/").text
    journal = page[page.index("id='journal'"):]
    assert journal.index("issueToken") < journal.index("getMyBasic"), "newest first"
    assert "<td>401</td>" in journal and "<td>400</td>" in journal
    assert "Refreshes set to fail" in page and "ekool: 2" in page
