"""The login host's HTML pages (Jinja2 templates in `templates/`, autoescaped)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from harness.apis.ekool import scopes

if TYPE_CHECKING:
    from harness.apis.ekool.demo import AuthorizationRequest, User

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def login(csrf: str, client_name: str | None, error: str | None = None, username: str = "") -> HTMLResponse:
    """The login page: the form carries only the CSRF token (the session remembers where to go back to)."""
    return _render("login.html", params={}, csrf=csrf, client_name=client_name, error=error, username=username)


def consent(auth: AuthorizationRequest, user: User, csrf: str) -> HTMLResponse:
    descriptions = scopes.descriptions()
    requested = [(scope, descriptions[scope]) for scope in auth.scopes]
    return _render("consent.html", params=auth.parameters, csrf=csrf, client=auth.client, user=user,
                   scopes=requested)


def expired() -> HTMLResponse:
    """Laravel's answer to a form post without a valid session or CSRF token."""
    return _render("expired.html", status=419)
