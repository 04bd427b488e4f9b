"""`harness.conformance` speaks HTTP only: it must never import the reference server (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import harness.conformance

FORBIDDEN = ("harness.apis", "harness.server", "harness.store", "harness.runtime", "harness.crypto.keys")
PACKAGE_DIR = Path(harness.conformance.__file__).parent


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_no_module_of_the_package_names_a_forbidden_import_even_lazily():
    offenders = {
        str(path.relative_to(PACKAGE_DIR)): sorted(n for n in _imported_names(path) if _forbidden(n))
        for path in PACKAGE_DIR.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_ast_scan_would_catch_an_offender(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("def f():\n    from harness.apis.sunbird import PLUGIN\n")
    assert any(_forbidden(n) for n in _imported_names(sample))


def test_importing_every_conformance_module_loads_no_server_module():
    """Only the plugins' declarations (the entry points' modules, which import nothing of the server) load."""
    modules = [f"harness.conformance.{p.relative_to(PACKAGE_DIR).with_suffix('').as_posix().replace('/', '.')}"
               for p in PACKAGE_DIR.rglob("*.py") if p.name != "__init__.py"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "from harness.conformance.rules import rules_for\n"
        "from harness.conformance.config import ConformConfig\n"
        "from harness.conformance.apis import for_api\n"
        "for api in ConformConfig().apis: rules_for(api); for_api(api)\n"
        "from importlib.metadata import entry_points\n"
        "declared = {e.value.split(':')[0] for e in entry_points(group='harness.apis')} | {'harness.apis'}\n"
        f"print(sorted(m for m in sys.modules if m not in declared and any(m == f or m.startswith(f + '.') "
        f"for f in {FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len(modules) >= 10
