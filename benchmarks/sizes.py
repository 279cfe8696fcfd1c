"""Import time and installed size of each framework.

    python -m benchmarks sizes [--frameworks ember,torch,...] [--repeats 3]

- **Import time**: wall time of ``python -c "import X"`` minus that of ``python -c "pass"``,
  each the median of ``repeats`` fresh processes — what a user waits for before their first
  line runs. The median of 3 discards one slow run (a cold disk cache, a busy machine).
- **Installed size**: the bytes of the framework's own distribution(s) ("package"), and of the
  package plus the closure of its required distributions excluding NumPy ("with deps"), summed
  over the files each distribution's RECORD lists (``importlib.metadata``). NumPy is left out
  of the closure because every framework here needs it; it has its own row. Optional extras
  (``extra == ...`` requirements) are not followed. For an editable install (ember from a
  source checkout), whose RECORD lists no source files, the package directory is summed.
- **ember's optional pieces** (``measure_options``), one row each: ``ember+onnxruntime`` (the
  ``onnxruntime`` wheel and its closure; import time of ``import onnxruntime``, which ember
  does on first use) and ``ember+onednn`` (the system ``libdnnl2`` package: dpkg's
  ``Installed-Size``; load time = ``import ember`` + opening the library and creating its
  engine, minus ``import ember``).
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

# framework -> (module to import, distributions that are "the package itself")
FRAMEWORKS = {
    "ember": ("ember", ("ember",)),
    "torch": ("torch", ("torch",)),
    "tensorflow": ("tensorflow", ("tensorflow", "tensorflow-cpu")),
    "jax": ("jax", ("jax", "jaxlib")),
    "numpy": ("numpy", ("numpy",)),
}
EXCLUDED_FROM_CLOSURE = {"numpy"}
# libdnnl2's Debian dependencies beyond libc/libstdc++ (which every Python has)
ONEDNN_DEB_DEPENDENCIES = ("libgomp1", "ocl-icd-libopencl1")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def version(framework: str) -> str | None:
    """The installed version of ``framework``'s first distribution found, or None."""
    for dist_name in FRAMEWORKS.get(framework, (framework, (framework,)))[1]:
        dist = _installed(dist_name)
        if dist is not None:
            return dist.version
    return None


def _requirement_names(dist: metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        name, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
        if match:
            names.append(match.group(1))
    return names


def dependency_closure(roots: list[str]) -> list[str]:
    """Installed distributions reachable from ``roots`` through requirements, minus NumPy."""
    seen: dict[str, metadata.Distribution] = {}
    stack = list(roots)
    while stack:
        name = _normalize(stack.pop())
        if name in seen or name in EXCLUDED_FROM_CLOSURE:
            continue
        dist = _installed(name)
        if dist is None:
            continue  # requirement for another platform or Python version
        seen[name] = dist
        stack.extend(_requirement_names(dist))
    return sorted(seen)


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def distribution_bytes(name: str, module: str | None = None) -> int:
    """Bytes of the files a distribution installed; the package tree for an editable install."""
    dist = _installed(name)
    if dist is None:
        return 0
    total = 0
    for file in dist.files or []:
        located = Path(file.locate())
        if located.is_file():
            total += located.stat().st_size
    if module:
        spec = importlib.util.find_spec(module)
        locations = list(spec.submodule_search_locations or []) if spec else []
        tree = sum(_tree_bytes(Path(location)) for location in locations)
        total = max(total, tree)  # editable: RECORD holds only the .pth and dist-info
    return total


def installed_size(framework: str) -> dict:
    """``{"package_mb", "with_deps_mb", "dependencies"}`` of an installed framework."""
    module, dist_names = FRAMEWORKS[framework]
    own = [n for n in dist_names if _installed(n) is not None]
    package = sum(distribution_bytes(n, module if i == 0 else None) for i, n in enumerate(own))
    closure = dependency_closure(own) if framework != "numpy" else []
    deps = [n for n in closure if n not in {_normalize(o) for o in own}]
    total = package + sum(distribution_bytes(n) for n in deps)
    return {"package_mb": package / 2**20, "with_deps_mb": total / 2**20,
            "dependencies": deps}


def _wall_time(code: str, python: str) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - start


def import_time(module: str, repeats: int = 3, python: str | None = None) -> float:
    """Seconds to ``import module`` in a fresh interpreter, beyond the interpreter's start."""
    python = python or sys.executable
    bare = statistics.median(_wall_time("pass", python) for _ in range(repeats))
    loaded = statistics.median(_wall_time(f"import {module}", python) for _ in range(repeats))
    return max(loaded - bare, 0.0)


def _dpkg_installed(package: str) -> tuple[str, float] | None:
    """``(version, MiB)`` of an installed Debian package (dpkg's ``Installed-Size`` is in KiB),
    or None when dpkg or the package is absent."""
    try:
        out = subprocess.run(["dpkg", "-s", package], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    fields = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    if out.returncode or "Installed-Size" not in fields:
        return None
    return fields.get("Version", "?"), int(fields["Installed-Size"]) / 1024


def _onednn_record(repeats: int) -> dict:
    record = {"kind": "size", "framework": "ember+onednn", "version": None}
    probe = ("from ember.backends.onednn import _lib, is_available, unavailable_reason\n"
             "assert is_available(), unavailable_reason()\n_lib.engine()")
    check = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           timeout=300)
    if check.returncode:
        reason = (check.stderr.strip().splitlines() or ["oneDNN does not load"])[-1]
        return {**record, "status": "unavailable", "reason": reason}
    dpkg = _dpkg_installed("libdnnl2")
    if dpkg is not None:
        record["version"], size = dpkg
        deps = {name: _dpkg_installed(name) for name in ONEDNN_DEB_DEPENDENCIES}
        deps = {name: found[1] for name, found in deps.items() if found is not None}
        record.update(package_mb=size, with_deps_mb=size + sum(deps.values()),
                      dependencies=sorted(deps))
    python = sys.executable
    base = statistics.median(_wall_time("import ember", python) for _ in range(repeats))
    loaded = statistics.median(_wall_time(probe, python) for _ in range(repeats))
    return {**record, "import_s": max(loaded - base, 0.0), "status": "ok"}


def measure_options(repeats: int = 3) -> list[dict]:
    """Rows for ember's optional pieces (see the module docstring): ONNX Runtime and oneDNN."""
    onnx = {"kind": "size", "framework": "ember+onnxruntime",
            "version": version("onnxruntime")}
    if importlib.util.find_spec("onnxruntime") is None:
        onnx.update(status="unavailable", reason="onnxruntime is not installed")
    else:
        closure = dependency_closure(["onnxruntime"])
        deps = [n for n in closure if n != "onnxruntime"]
        package = distribution_bytes("onnxruntime")
        onnx.update(import_s=import_time("onnxruntime", repeats),
                    package_mb=package / 2**20,
                    with_deps_mb=(package + sum(distribution_bytes(n) for n in deps)) / 2**20,
                    dependencies=deps, status="ok")
    return [onnx, _onednn_record(repeats)]


def measure(framework: str, repeats: int = 3) -> dict:
    """Import time and installed size of ``framework``, or why they could not be measured."""
    module, _ = FRAMEWORKS[framework]
    record = {"kind": "size", "framework": framework, "version": version(framework)}
    if importlib.util.find_spec(module) is None:
        return {**record, "status": "unavailable", "reason": f"{module} is not installed"}
    try:
        record.update(import_s=import_time(module, repeats), **installed_size(framework))
    except subprocess.CalledProcessError as error:
        tail = (error.stderr or b"").decode(errors="replace")[-500:]
        return {**record, "status": "failed", "reason": f"import {module} failed: {tail}"}
    return {**record, "status": "ok"}


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line per framework."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks sizes",
                                     description="Import time and installed size.")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    names = [n for n in args.frameworks.split(",") if n]
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown framework(s) {', '.join(unknown)}; "
                     f"valid: {', '.join(FRAMEWORKS)}")
    for name in names:
        print(json.dumps(measure(name, args.repeats)), flush=True)
    if "ember" in names:
        for record in measure_options(args.repeats):
            print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
