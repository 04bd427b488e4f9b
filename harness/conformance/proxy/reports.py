"""What `harness proxy` writes on exit: JSON (every violation), JUnit XML (one testcase per rule per operation
seen) and a HAR 1.2 file of the exchanges, every secret redacted (`harness.redaction`)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness import __version__
from harness.conformance.proxy.forward import Exchange
from harness.conformance.proxy.judge import Judge
from harness.redaction import redact_header, redact_query, redacted_text

_REASONS = {200: "OK", 201: "Created", 204: "No Content", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
            415: "Unsupported Media Type", 419: "Page Expired", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def json_report(judge: Judge) -> dict[str, Any]:
    return {
        "exchanges": judge.exchanges,
        "violations": [{"rule": v.rule, "operation": v.operation, "message": v.message, "curl": v.curl}
                       for v in judge.violations],
        "checked": [{"rule": rule, "operation": operation, "exchanges": count}
                    for (rule, operation), count in sorted(judge.checked.items())],
    }


def write_json(judge: Judge, path: Path) -> None:
    path.write_text(json.dumps(json_report(judge), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_junit(judge: Judge, path: Path) -> None:
    failures: dict[tuple[str, str], list[str]] = defaultdict(list)
    for violation in judge.violations:
        failures[(violation.rule, violation.operation)].append(f"{violation.message}\n  {violation.curl}")
    suite = ElementTree.Element("testsuite", name="harness proxy", tests=str(len(judge.checked)),
                                failures=str(len(failures)), timestamp=datetime.now(UTC).isoformat())
    ElementTree.SubElement(ElementTree.SubElement(suite, "properties"), "property", name="exchanges",
                           value=str(judge.exchanges))
    for (rule, operation), count in sorted(judge.checked.items()):
        case = ElementTree.SubElement(suite, "testcase", classname=operation, name=rule)
        ElementTree.SubElement(case, "system-out").text = f"{count} exchange(s) judged"
        if (rule, operation) in failures:
            found = failures[(rule, operation)]
            failure = ElementTree.SubElement(case, "failure", message=found[0].splitlines()[0][:300])
            failure.text = "\n".join(found)
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.indent(root)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _headers(raw: list[tuple[bytes, bytes]]) -> list[dict[str, str]]:
    return [{"name": k.decode("latin-1"), "value": redact_header(k.decode("latin-1"), v.decode("latin-1"))}
            for k, v in raw]


def _header(raw: list[tuple[bytes, bytes]], name: str) -> str:
    return next((v.decode("latin-1") for k, v in raw if k.lower() == name.encode()), "")


def har_entry(exchange: Exchange, target: str) -> dict[str, Any]:
    url = redact_query(target.rstrip("/") + exchange.path)
    query = url.partition("?")[2]
    request_type = _header(exchange.request_headers, "content-type")
    response_type = _header(exchange.response_headers, "content-type")
    entry: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(exchange.started, UTC).isoformat(),
        "time": exchange.elapsed_ms,
        "request": {
            "method": exchange.method, "url": url, "httpVersion": "HTTP/1.1",
            "headers": _headers(exchange.request_headers), "cookies": [],
            "queryString": [{"name": n, "value": v} for n, _, v in (p.partition("=") for p in query.split("&") if p)],
            "headersSize": -1, "bodySize": len(exchange.request_body),
        },
        "response": {
            "status": exchange.status, "statusText": _REASONS.get(exchange.status, ""), "httpVersion": "HTTP/1.1",
            "headers": _headers(exchange.response_headers), "cookies": [],
            "content": {"size": len(exchange.response_body), "mimeType": response_type,
                        "text": redacted_text(response_type, exchange.decoded_body)},
            "redirectURL": redact_query(_header(exchange.response_headers, "location")),
            "headersSize": -1, "bodySize": len(exchange.response_body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": exchange.elapsed_ms, "receive": 0},
    }
    if exchange.request_body:
        entry["request"]["postData"] = {"mimeType": request_type,
                                        "text": redacted_text(request_type, exchange.request_body)}
    if exchange.error:
        entry["comment"] = exchange.error
    return entry


def write_har(entries: list[dict[str, Any]], path: Path) -> None:
    document = {"log": {"version": "1.2", "creator": {"name": "harness proxy", "version": __version__},
                        "entries": entries}}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
