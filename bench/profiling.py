"""Where a server's CPU time goes under load: py-spy attached to each worker, samples grouped by library.

Only the thread holding the GIL is sampled (`--gil`): threads waiting for the GIL inside a C call would
otherwise be charged to that call (SQLite reads looked like half of a GET). The price: C code that releases
the GIL (RSA in `cryptography`, SQLite's step) is under-counted; read signing cost from the bare-rate line.

py-spy (PyPI, not a project dependency) samples the running workers from outside, so the server runs
unmodified. `summarise` turns py-spy's raw collapsed stacks into shares per layer: each sample is charged to
the innermost frame that belongs to a known layer (RSA in `cryptography`, PyJWT, jsonschema, connexion, ...).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# (layer, substrings of a frame's "function (file:line)"), innermost match wins; order breaks ties in a frame.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("RSA sign/verify (cryptography)", ("cryptography/",)),
    ("PyJWT (encode/decode, base64, json)", ("jwt/",)),
    ("SQLite store", ("sqlite3", "harness/store.py")),
    ("request/response schema validation (jsonschema)", ("jsonschema", "referencing/", "openapi_schema_validator")),
    ("form/multipart parsing", ("python_multipart", "formparsers.py")),
    ("stdlib json", ("json/",)),
    ("logging", ("logging/",)),
    ("harness handlers and gateway", ("harness/",)),
    ("connexion middleware", ("connexion/",)),
    ("starlette", ("starlette/",)),
    ("uvicorn + httptools protocol", ("uvicorn/", "httptools")),
    # uvloop and httptools are C: their time shows as the Python frame that entered the loop (Runner.run).
    ("event loop (uvloop, httptools C) + threadpool handoff", ("asyncio/", "uvloop", "concurrent/futures",
                                                               "threading.py", "anyio/")),
)
# Innermost frames of threads that are waiting, not working (idle threadpool workers): not CPU time.
IDLE_LEAVES = ("Condition.wait (threading.py", "Event.wait (threading.py", "Queue.get (queue.py")


def py_spy() -> str | None:
    return shutil.which("py-spy")


@contextmanager
def sampling(pids: list[int], out_dir: Path, name: str, seconds: float) -> Iterator[list[Path]]:
    """Record `seconds` of samples from each pid while the body runs (py-spy must be on PATH)."""
    executable = py_spy()
    if executable is None:
        raise FileNotFoundError("py-spy is not on PATH (pip install py-spy)")
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = [out_dir / f"{name}-{pid}.txt" for pid in pids]
    recorders = [
        subprocess.Popen([executable, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                          "--rate", "200", "--gil", "--nonblocking", "--format", "raw", "--output", str(path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for pid, path in zip(pids, outputs, strict=True)
    ]
    try:
        yield outputs
    finally:
        for recorder in recorders:
            try:
                recorder.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()


def layer_of(frame: str) -> str | None:
    for layer, markers in LAYERS:
        if any(marker in frame for marker in markers):
            return layer
    return None


def summarise(paths: list[Path]) -> tuple[Counter[str], Counter[str]]:
    """(samples per layer, samples per innermost function) over py-spy raw outputs, idle threads left out."""
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            samples = int(count)
            if frames[-1].startswith(IDLE_LEAVES):
                continue
            leaves[frames[-1]] += samples
            layer = next((found for frame in reversed(frames) if (found := layer_of(frame))), "other")
            layers[layer] += samples
    return layers, leaves


def report(title: str, paths: list[Path], top: int = 8) -> str:
    layers, leaves = summarise(paths)
    total = sum(layers.values())
    if not total:
        return f"{title}: no samples"
    lines = [f"{title} ({total} samples)"]
    lines += [f"  {100 * n / total:5.1f}%  {layer}" for layer, n in layers.most_common()]
    lines.append("  hottest functions (self time):")
    lines += [f"  {100 * n / total:5.1f}%  {leaf}" for leaf, n in leaves.most_common(top)]
    return "\n".join(lines)
