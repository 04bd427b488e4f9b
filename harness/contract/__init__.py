"""Where the contract lives: the specs, the recorded exchanges and demo data, the generated Postman files.

They stay at the top of the repository (`openapi/`, `fixtures/`, `postman/`) and ship inside the package as
`harness/contract/<dir>`: in a checkout those are links to the top-level directories, in a wheel or an sdist
they are copies. `importlib.resources` is the one lookup, the same in an editable install and in a wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _directory(name: str) -> Path:
    found = files(__name__) / name
    if not isinstance(found, Path) or not found.is_dir():
        raise FileNotFoundError(f"the package's contract data {name}/ is missing at {found} (a broken install?)")
    return found


def spec_dir() -> Path:
    return _directory("openapi")


def fixture_dir() -> Path:
    return _directory("fixtures")


def postman_dir() -> Path:
    return _directory("postman")
