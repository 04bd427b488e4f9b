"""Fixture comparison by structure: what it tolerates (values of data, tokens) and what it flags."""

from __future__ import annotations

from pathlib import Path

import httpx

from harness.conformance.replay import compare
from harness.fixtures import Fixture


def _fixture(body, status=200, headers=None, placeholders=()) -> Fixture:
    return Fixture(path=Path("x/sunbird/f.yaml"), api="sunbird", source="seeds/000", description="", operation="op",
                   request={"method": "GET", "path": "/"},
                   response={"status": status, "headers": headers or {"Content-Type": "application/json"},
                             "body": body}, placeholders=list(placeholders))


def _response(body, status=200, headers=None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


RECORDED = {"id": "api.x", "params": {"err": "BAD_REQUEST", "resmsgid": "a"}, "result": {"token": "eyJ.x.y", "n": 1}}


def test_same_shape_other_data_passes():
    actual = {"id": "api.x", "params": {"err": "BAD_REQUEST", "resmsgid": "zzz"}, "result": {"token": "other", "n": 7},
              "extra": True}
    assert compare(_fixture(RECORDED), _response(actual)) == []


def test_missing_key_other_type_status_and_error_code_are_flagged():
    actual = {"id": "api.x", "params": {"err": "OTHER"}, "result": {"token": 5, "n": 1}}
    problems = compare(_fixture(RECORDED), _response(actual, status=400))
    assert "status: expected 200, got 400" in problems
    assert "body/params/resmsgid: missing" in problems
    assert "body/result/token: expected string, got number" in problems
    assert any(p.startswith("body/params/err: expected 'BAD_REQUEST'") for p in problems)


def test_placeholders_admit_any_value_and_ts_is_satisfied_by_ets():
    recorded = {"ts": 1, "params": {"err": "text"}}
    fixture = _fixture(recorded, placeholders=["/response/body/ts", "/response/body/params/err"])
    assert compare(fixture, _response({"ets": 5, "params": {"err": None}})) == []
    assert compare(fixture, _response({"params": {"err": None}})) == ["body/ts: missing"]


def test_placeholder_error_values_are_not_compared():
    actual = {"id": "api.y", "params": {"err": "OTHER", "resmsgid": "a"}, "result": {"token": "t", "n": 1}}
    fixture = _fixture(RECORDED, placeholders=["/response/body/params/err", "/response/body/id"])
    assert compare(fixture, _response(actual)) == []


def test_headers_media_type_and_location_shape():
    fixture = _fixture(None, status=302, headers={"Location": "http://localhost:3000/callback?code=x&state=s",
                                                  "Cache-Control": "no-store"})
    good = httpx.Response(302, headers={"Location": "http://localhost:3000/callback?code=other&state=s",
                                        "Cache-Control": "no-store"})
    assert compare(fixture, good) == []
    bad = httpx.Response(302, headers={"Location": "http://evil.invalid/callback?state=s"})
    problems = compare(fixture, bad)
    assert "header Location: expected localhost:3000/callback, got evil.invalid/callback" in problems
    assert "header Location: query lacks code" in problems
    assert "header Cache-Control: missing" in problems
    assert compare(_fixture({"a": 1}), httpx.Response(200, text="{}", headers={"Content-Type": "text/plain"})) == [
        "header Content-Type: expected 'application/json', got 'text/plain'", "body/a: missing"]
