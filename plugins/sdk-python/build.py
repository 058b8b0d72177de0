#!/usr/bin/env python3
"""Builds one Python Waybill plugin into a component with componentize-py,
against wit/plugin.wit (the one contract every plugin targets; never a
copy), and lays it out as the host loads it:

    python3 plugins/sdk-python/build.py <plugin-dir> [--out <dir>] [--wit <file>]

writes <out>/<name>.wasm and <out>/<name>.fixtures/ (default out:
<plugin-dir>/dist). <name> and the version come from the plugin's
pyproject.toml ([project]); the plugin module is src/plugin.py (more modules
beside it are importable). componentize-py is taken from the environment
running this script, else from the venv `cargo xtask plugins` keeps in
target/componentize-py-venv.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import NoReturn

SDK_DIR = Path(__file__).resolve().parent
REPO = SDK_DIR.parent.parent
DEFAULT_WIT = REPO / "wit" / "plugin.wit"
VENV_TOOL = REPO / "target" / "componentize-py-venv" / "bin" / "componentize-py"
# The top-level custom section naming the plugin's language for the host's limits.
LANGUAGE_SECTION = "waybill-language"
NAME_RE = re.compile(r"^[a-z0-9-]{1,64}$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([-+].*)?$")


def fail(message: str) -> NoReturn:
    print(f"build.py: {message}", file=sys.stderr)
    sys.exit(1)


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def with_custom_section(component: bytes, name: str, payload: str) -> bytes:
    """``component`` with a top-level custom section ``name`` holding ``payload``."""
    name_bytes = name.encode()
    body = leb128(len(name_bytes)) + name_bytes + payload.encode()
    return component + b"\x00" + leb128(len(body)) + body


def componentize_py() -> str:
    beside = Path(sys.executable).parent / "componentize-py"
    for candidate in (beside, VENV_TOOL):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("componentize-py")
    if found:
        return found
    fail(
        "componentize-py is not installed; run `cargo xtask plugins` (it makes "
        f"{VENV_TOOL.parent.parent}) or `pip install -r {SDK_DIR / 'requirements.txt'}`"
    )


def read_project(plugin_dir: Path):
    manifest = plugin_dir / "pyproject.toml"
    if not manifest.exists():
        fail(f"{manifest}: not found (a Python plugin has a pyproject.toml)")
    try:
        project = tomllib.loads(manifest.read_text())["project"]
    except (tomllib.TOMLDecodeError, KeyError) as e:
        fail(f"{manifest}: needs a [project] table with name and version ({e})")
    name, version = project.get("name"), project.get("version")
    if not isinstance(name, str) or not NAME_RE.match(name):
        fail(f"{manifest}: project.name must be 1-64 characters of a-z, 0-9 and '-'")
    if not isinstance(version, str) or not VERSION_RE.match(version):
        fail(f"{manifest}: project.version must be MAJOR.MINOR.PATCH")
    return name, version


def main() -> None:
    parser = argparse.ArgumentParser(description="Build a Python Waybill plugin component.")
    parser.add_argument("plugin_dir")
    parser.add_argument("--out", help="output directory (default <plugin-dir>/dist)")
    parser.add_argument("--wit", default=str(DEFAULT_WIT), help="the WIT contract (default wit/plugin.wit)")
    args = parser.parse_args()

    plugin_dir = Path(args.plugin_dir).resolve()
    name, version = read_project(plugin_dir)
    src = plugin_dir / "src"
    if not (src / "plugin.py").exists():
        fail(f"{src / 'plugin.py'}: the plugin module is missing")
    wit = Path(args.wit).resolve()
    if not wit.exists():
        fail(f"{wit}: the WIT contract is missing")
    out = Path(args.out).resolve() if args.out else plugin_dir / "dist"
    tool = componentize_py()

    with tempfile.TemporaryDirectory(prefix=f"waybill-py-{name}-") as staging_dir:
        staging = Path(staging_dir)
        shutil.copytree(SDK_DIR / "waybill_sdk", staging / "waybill_sdk", ignore=shutil.ignore_patterns("__pycache__"))
        (staging / "waybill_sdk" / "_package.py").write_text(
            f'"""Written by build.py from pyproject.toml."""\nNAME = {name!r}\nVERSION = {version!r}\n'
        )
        (staging / "app.py").write_text(
            '"""Written by build.py: the plugin wired to the world\'s exports."""\n'
            "import plugin\n"
            "from waybill_sdk.guest import wire\n\n"
            "Describe, Mapper, Validator = wire(plugin)\n"
        )
        built = staging / "component.wasm"
        started = time.monotonic()
        cmd = [
            tool,
            "-d", str(wit),
            "-w", "plugin",
            "componentize",
            "-p", str(staging),
            "-p", str(src),
            "app",
            "-o", str(built),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=staging)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            fail(f"componentize-py failed for {plugin_dir} ({result.returncode})")
        wasm = with_custom_section(built.read_bytes(), LANGUAGE_SECTION, "python")

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.wasm.tmp"
    tmp.write_bytes(wasm)
    os.replace(tmp, out / f"{name}.wasm")  # a watching host never sees half a file
    fixtures_out = out / f"{name}.fixtures"
    shutil.rmtree(fixtures_out, ignore_errors=True)
    if (plugin_dir / "fixtures").is_dir():
        shutil.copytree(plugin_dir / "fixtures", fixtures_out)
    print(
        f"built {out / (name + '.wasm')} ({name}@{version}, {len(wasm) / 1024 / 1024:.1f} MiB, "
        f"{time.monotonic() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
