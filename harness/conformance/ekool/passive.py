"""eKool's passive rules: what `harness proxy` judges on the traffic of a real app (see
`harness.conformance.passive`). Codes and tokens are remembered as digests, never in clear."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qsl

import jwt

from harness.conformance import jwts
from harness.conformance.ekool.client import RESOURCE_OPERATIONS, RESOURCE_SCOPES
from harness.conformance.passive import Seen, passive
from harness.conformance.rules import expect


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _grant(seen: Seen, grant: str) -> bool:
    return seen.form.get("grant_type") == grant


def _authorization_request(seen: Seen) -> dict[str, str]:
    """The authorization request's parameters: the query of `GET /oauth/authorize`, or the consent form's fields
    (a Passport consent post carries them too)."""
    return {**seen.params, **seen.form}


def _redirect(seen: Seen) -> tuple[str, dict[str, str]] | None:
    location = seen.response.headers.get("location", "")
    if seen.response.status_code not in (301, 302, 303, 307, 308) or "?" not in location:
        return None
    base, _, query = location.partition("?")
    params = dict(parse_qsl(query.split("#")[0], keep_blank_values=True))
    return (base, params) if "code" in params or "error" in params else None


@passive("ekool")
def authorize_echoes_state(seen: Seen, memory: dict[str, Any]) -> None:
    """A code redirect goes to the `redirect_uri` the authorization request sent and echoes its `state`.

    Source: RFC 6749 §4.1.2 (state REQUIRED if present in the request); RFC 9700 §4.1.1 (exact redirect URIs);
    reference/ekool-oauth2.md "Authorize".
    """
    redirect = _redirect(seen)
    if redirect is None or "code" not in redirect[1]:
        return
    sent = _authorization_request(seen)
    if sent.get("redirect_uri"):
        expect(redirect[0] == sent["redirect_uri"].partition("?")[0],
               f"the code went to {redirect[0]!r}, not to the redirect_uri sent ({sent['redirect_uri']!r})")
    if "state" in sent:
        expect(redirect[1].get("state") == sent["state"], "the code redirect does not echo the request's state")


@passive("ekool")
def code_is_bound_to_client(seen: Seen, memory: dict[str, Any]) -> None:
    """A code is redeemed only by the client it was issued to, with the `redirect_uri` it was issued for and,
    when the authorization request sent a PKCE challenge, a `code_verifier` that matches it.

    Source: RFC 6749 §4.1.3; RFC 7636 §4.6; reference/ekool-oauth2.md "Token endpoint".
    """
    sent = _authorization_request(seen)
    challenges = memory.setdefault("challenges", {})  # state -> the PKCE challenge the app sent with it
    if sent.get("code_challenge") and sent.get("state"):
        challenges[_digest(sent["state"])] = (sent["code_challenge"], sent.get("code_challenge_method"))
    redirect = _redirect(seen)
    if redirect is not None and "code" in redirect[1]:
        issued = {key: sent.get(key) for key in ("client_id", "redirect_uri", "code_challenge",
                                                   "code_challenge_method")}
        state = redirect[1].get("state")
        if not issued["code_challenge"] and state and _digest(state) in challenges:  # lost on the way
            issued["code_challenge"], issued["code_challenge_method"] = challenges[_digest(state)]
        memory[_digest(redirect[1]["code"])] = issued
        return
    if seen.operation != "issueToken" or not _grant(seen, "authorization_code") or not seen.response.is_success:
        return
    issued = memory.get(_digest(seen.form.get("code", "")))
    if issued is None:  # issued before the proxy saw it
        return
    expect(issued["client_id"] in (None, seen.form.get("client_id"), _basic_user(seen)),
           "a code issued to another client was redeemed")
    if issued["redirect_uri"] is not None:
        expect(seen.form.get("redirect_uri") == issued["redirect_uri"],
               "a code was redeemed with another redirect_uri than it was issued for")
    if issued["code_challenge"]:
        verifier = seen.form.get("code_verifier", "")
        expect(_challenge(verifier, issued["code_challenge_method"]) == issued["code_challenge"],
               "a PKCE code was redeemed without the matching code_verifier")


def _challenge(verifier: str, method: str | None) -> str:
    if (method or "plain") == "plain":
        return verifier
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _basic_user(seen: Seen) -> str | None:
    scheme, _, value = seen.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value).decode().partition(":")[0]
    except ValueError:
        return None


@passive("ekool", "issueToken")
def code_is_single_use(seen: Seen, memory: dict[str, Any]) -> None:
    """A code the token endpoint exchanged is refused the second time.

    Source: RFC 6749 §4.1.2 (a code MUST NOT be used more than once); reference/ekool-oauth2.md "Codes".
    """
    if not _grant(seen, "authorization_code") or "code" not in seen.form or not seen.response.is_success:
        return
    key = _digest(seen.form["code"])
    expect(key not in memory, "an authorization code was exchanged a second time")
    memory[key] = True


@passive("ekool", "issueToken")
def refresh_rotates_tokens(seen: Seen, memory: dict[str, Any]) -> None:
    """A refresh token is refused once it has been rotated, and only the client it was issued to may use it.

    Source: reference/ekool-oauth2.md "Refresh" (Passport revokes the old pair); RFC 9700 §4.14.2; RFC 6749 §6.
    """
    body = seen.json() if seen.response.is_success else None
    if isinstance(body, dict) and isinstance(body.get("refresh_token"), str):
        client = seen.form.get("client_id") or _basic_user(seen)
        memory.setdefault("client", {})[_digest(body["refresh_token"])] = client
    if not _grant(seen, "refresh_token") or "refresh_token" not in seen.form or not seen.response.is_success:
        return
    key = _digest(seen.form["refresh_token"])
    rotated = memory.setdefault("rotated", set())
    expect(key not in rotated, "a refresh token was accepted after it had been rotated")
    owner = memory["client"].get(key)
    expect(owner in (None, seen.form.get("client_id") or _basic_user(seen)),
           "a refresh token issued to another client was accepted")
    if isinstance(body, dict) and body.get("refresh_token") != seen.form["refresh_token"]:
        rotated.add(key)


@passive("ekool", "issueToken")
def access_token_verifies_and_carries_granted_scopes(seen: Seen, memory: dict[str, Any]) -> None:
    """An issued access token is an RS256 JWT that verifies with the target's published keys.

    Source: reference/ekool-oauth2.md "Token formats"; RFC 9068 §2.2; RFC 7515 §5.2.
    """
    body = seen.json() if seen.response.is_success else None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        return
    for refresh in (False, True):  # fetched again once: the keys may have rotated
        try:
            jwts.verify_with_jwks(body["access_token"], *seen.keys(refresh), leeway=60)
            return
        except jwt.InvalidTokenError as exc:
            problem = str(exc)
    raise AssertionError(f"an issued access token does not verify with the published keys: {problem}")


@passive("ekool", *RESOURCE_OPERATIONS)
def resource_requires_its_scope(seen: Seen, memory: dict[str, Any]) -> None:
    """A resource answers 200 only to a token with its scope, and its 403 names the scope in `WWW-Authenticate`.

    Source: reference/ekool-oauth2.md "Resource API"; seeds/002 (scopes per endpoint); RFC 6750 §3.1.
    """
    path = seen.request.url.path.rstrip("/")
    needed = next((scope for resource, scope in RESOURCE_SCOPES.items() if path.endswith(resource)), None)
    if seen.response.status_code == 403:
        challenge = seen.response.headers.get("www-authenticate", "")
        expect('error="insufficient_scope"' in challenge, f"a 403 for scope has WWW-Authenticate {challenge!r}")
    if not seen.response.is_success or needed is None or seen.bearer is None:
        return
    try:
        scopes = jwts.unverified(seen.bearer)[1].get("scopes", [])
    except Exception:  # a bearer that is no JWT: other rules judge that
        return
    expect(needed in scopes, f"answered {seen.response.status_code} to a token without the {needed!r} scope")


@passive("ekool", "authorize")
def authorize_redirects_unknown_scope_as_error(seen: Seen, memory: dict[str, Any]) -> None:
    """An unknown scope is answered with the `invalid_scope` error redirect, not a JSON error.

    Source: reference/ekool-oauth2.md "Authorize" (league redirects invalid_scope); RFC 6749 §4.1.2.1.
    """
    body = seen.json()
    expect(not (seen.response.status_code == 400 and isinstance(body, dict) and body.get("error") == "invalid_scope"),
           "an unknown scope got a 400 JSON error instead of the error redirect")


@passive("ekool", "issueToken")
def refresh_refuses_wider_scope(seen: Seen, memory: dict[str, Any]) -> None:
    """A refresh asking for a scope the grant did not have is refused.

    Source: RFC 6749 §6 (the scope MUST NOT include any scope not originally granted); reference/ekool-oauth2.md.
    """
    body = seen.json() if seen.response.is_success else None
    granted = memory.setdefault("granted", {})
    if _grant(seen, "refresh_token") and seen.form.get("scope") and seen.response.is_success:
        before = granted.get(_digest(seen.form.get("refresh_token", "")))
        if before is not None:
            wider = sorted(set(seen.form["scope"].split()) - set(before))
            expect(not wider, f"a refresh widened the grant by {wider}")
    if isinstance(body, dict) and isinstance(body.get("refresh_token"), str) and \
            isinstance(body.get("access_token"), str):
        try:
            scopes = jwts.unverified(body["access_token"])[1].get("scopes")
        except ValueError:
            return
        if isinstance(scopes, list):
            granted[_digest(body["refresh_token"])] = scopes


@passive("ekool", "issueToken")
def token_rejects_wrong_client_secret(seen: Seen, memory: dict[str, Any]) -> None:
    """A known client (the conformance config's) sending another secret is never answered 2xx.

    Source: RFC 6749 §2.3.1, §5.2 (`invalid_client`); reference/ekool-oauth2.md "Token endpoint".
    """
    section = seen.section
    if section is None or not seen.response.is_success or "client_secret" not in seen.form:
        return
    known = {section.client_id: section.client_secret, section.other_client_id: section.other_client_secret}
    client = seen.form.get("client_id")
    if client in known and known[client] is not None:
        expect(seen.form["client_secret"] == known[client], "a wrong client secret was accepted")


@passive("ekool")
def authorize_never_redirects_to_unregistered_uri(seen: Seen, memory: dict[str, Any]) -> None:
    """The browser is never sent to a redirect URI no client registered (the config's `unregistered_redirect_uri`),
    not even with an error.

    Source: RFC 6749 §4.1.2.1 (MUST NOT redirect to an invalid redirection URI); RFC 9700 §4.1.1.
    """
    section = seen.section
    location = seen.response.headers.get("location", "")
    if section is None or not section.unregistered_redirect_uri or not seen.response.is_redirect:
        return
    expect(not location.startswith(section.unregistered_redirect_uri),
           f"the browser was sent to the unregistered {section.unregistered_redirect_uri!r}")
