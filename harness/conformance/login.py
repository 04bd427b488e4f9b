"""Log a user in through an OAuth authorization server's HTML pages, as a browser would.

Reads each page's form (action, method, hidden inputs), fills `username`/`password`, then submits the
consent form with `decision=approve` (or `deny`), following redirects on the login host until the
server redirects to the client's `redirect_uri`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=attr.get("action", ""), method=attr.get("method", "get").upper()))
        elif self.forms and tag in ("input", "button") and attr.get("name"):
            kind = attr.get("type", "submit" if tag == "button" else "text").lower()
            if kind == "submit":
                self.forms[-1].buttons.append((attr["name"], attr.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in attr:
                self.forms[-1].fields[attr["name"]] = attr.get("value", "")


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class LoginError(RuntimeError):
    """The pages did not lead to the redirect URI (wrong credentials, unexpected page)."""


@dataclass
class Redirect:
    location: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def authorize_via_forms(
    client: httpx.Client, authorize_url: str, redirect_uri: str, username: str, password: str,
    decision: str = "approve", max_steps: int = 8,
) -> Redirect:
    """Walk authorize → login → consent; return the redirect to `redirect_uri` (code or error)."""
    response = client.get(authorize_url, follow_redirects=False)
    for _ in range(max_steps):
        location = response.headers.get("location")
        if response.is_redirect and location:
            target = urljoin(str(response.url), location)
            if target.startswith(redirect_uri):
                return Redirect(target)
            response = client.get(target, follow_redirects=False)
            continue
        if response.status_code != 200:
            raise LoginError(f"{response.request.url} answered {response.status_code}: {response.text[:200]}")
        forms = parse_forms(response.text)
        if not forms:
            raise LoginError(f"no form on {response.request.url}")
        form = forms[0]
        data = dict(form.fields)
        if "password" in data or "username" in data:
            data.update(username=username, password=password)
        else:
            names = {name for name, _ in form.buttons}
            if "decision" not in names:
                raise LoginError(f"page {response.request.url} has neither a login nor a consent form")
            data["decision"] = decision
        action = urljoin(str(response.url), form.action or str(response.url))
        if form.method == "POST":
            response = client.post(action, data=data, follow_redirects=False)
        else:
            response = client.get(action, params=data, follow_redirects=False)
    raise LoginError(f"no redirect to {redirect_uri} after {max_steps} steps")
