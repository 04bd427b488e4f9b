"""The connexion internals the server relies on, and the connexion version they were tested on.

`harness.fastpath` sets connexion's context variables and reads its middleware stack, and `harness.server`
validates each spec once per state directory and builds connexion's stack before the first request; all
three use names connexion does not document. They are used only on the tested minor version: on any other,
the server runs on connexion's documented behaviour alone (no fast path, no validation memo) and says so.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

TESTED_CONNEXION = "3.3"


def connexion_internals_problem() -> str | None:
    """Why connexion's internals must not be used with the installed connexion; None when they may."""
    try:
        installed = version("connexion")
    except PackageNotFoundError:
        return "connexion is not installed"
    if installed.split(".")[:2] != TESTED_CONNEXION.split("."):
        return (f"connexion {installed} is installed, but the fast path and the start-up memo were built and tested "
                f"on connexion {TESTED_CONNEXION}.x; serving through connexion's own stack only")
    return None
