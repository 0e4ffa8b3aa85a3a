"""Compile `contracts/src/*.sol` into the committed artifacts `contracts/build/<Name>.json`.

This is the project's only py-solc-x entry point. py-solc-x drives the npm `solc` package through
`contracts/solc-wrapper`, because no native solc binary can be downloaded here. Every setting that
changes the bytecode is pinned below and recorded in each artifact, sources are passed inline under
paths relative to `src/`, and the metadata hash is left out of the bytecode, so a rebuild on any
machine gives byte-identical files.

    python -m contracts.build            rebuild and write the artifacts
    python -m contracts.build --check    exit 1 if a rebuild differs from the committed artifacts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import solcx
from packaging.version import Version
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from contracts._artifacts import ARTIFACT_NAMES
from contracts.errors import BuildError

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_DIR = PACKAGE_DIR / "src"
BUILD_DIR = PACKAGE_DIR / "build"
SOLC_WRAPPER = PACKAGE_DIR / "solc-wrapper"

SOLC_VERSION = Version("0.8.28")
# Cancun: supported by Anvil, Besu and the py-evm in the lock; 0.8.28 may emit MCOPY for it.
EVM_VERSION = "cancun"
OPTIMIZER: dict[str, Any] = {"enabled": True, "runs": 200}
VIA_IR = False
# Without the metadata hash the bytecode does not depend on the machine's paths or NatSpec wording.
METADATA: dict[str, Any] = {"bytecodeHash": "none"}
OUTPUT_SELECTION = ["abi", "devdoc", "userdoc", "evm.bytecode.object", "evm.deployedBytecode.object"]


def read_sources(source_dir: Path = SOURCE_DIR) -> dict[str, str]:
    """Return every `.sol` file under `source_dir`, keyed by its path relative to it (sorted)."""
    return {
        path.relative_to(source_dir).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(source_dir.rglob("*.sol"))
    }


def source_hash(sources: dict[str, str]) -> str:
    """Return the hex SHA-256 over each source's relative path and content SHA-256, in path order."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        content_hash = hashlib.sha256(sources[name].encode("utf-8")).hexdigest()
        digest.update(f"{name}\0{content_hash}\n".encode())
    return digest.hexdigest()


def compiler_settings() -> dict[str, Any]:
    """Return the pinned settings, as recorded under `compiler` in every artifact."""
    return {
        "version": str(SOLC_VERSION),
        "evmVersion": EVM_VERSION,
        "optimizer": dict(OPTIMIZER),
        "viaIR": VIA_IR,
        "metadata": dict(METADATA),
    }


def _standard_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": content} for name, content in sources.items()},
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": dict(OPTIMIZER),
            "viaIR": VIA_IR,
            "metadata": dict(METADATA),
            "outputSelection": {"*": {"*": list(OUTPUT_SELECTION)}},
        },
    }


def _check_compiler(solc_binary: Path) -> str:
    if not solc_binary.exists():
        raise BuildError(f"compiler wrapper {solc_binary} is missing")
    try:
        full = get_solc_version(solc_binary, with_commit_hash=True)
    except (OSError, SolcError) as exc:
        raise BuildError(
            f"compiler wrapper {solc_binary} did not answer --version ({exc}); "
            "are node and node_modules/solc installed (`npm ci`)?"
        ) from exc
    if Version(full.base_version) != SOLC_VERSION:
        raise BuildError(f"compiler is solc {full}, but the build is pinned to {SOLC_VERSION}")
    return str(full)


def compile_output(sources: dict[str, str], solc_binary: Path = SOLC_WRAPPER) -> dict[str, Any]:
    """Compile `sources` and return solc's standard-JSON output (every contract, interfaces included).

    Raises BuildError when the compiler is missing or not the pinned version, or reports any error
    or warning (warnings are treated as errors so the sources stay clean). The output gains a
    `fullVersion` key naming the compiler that produced it.
    """
    full_version = _check_compiler(solc_binary)
    try:
        output: dict[str, Any] = solcx.compile_standard(_standard_input(sources), solc_binary=solc_binary)
    except SolcError as exc:
        raise BuildError(f"solc failed: {exc}") from exc
    problems = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") != "info"]
    if problems:
        raise BuildError("solc reported:\n" + "\n".join(problems))
    output["fullVersion"] = full_version
    return output


def artifacts_from(output: dict[str, Any], sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Return the artifact of each name in ARTIFACT_NAMES from a `compile_output` of `sources`."""
    compiler = compiler_settings()
    compiler["fullVersion"] = output["fullVersion"]
    shared_hash = source_hash(sources)
    artifacts: dict[str, dict[str, Any]] = {}
    for name in ARTIFACT_NAMES:
        source_name = f"{name}.sol"
        try:
            out = output["contracts"][source_name][name]
        except KeyError as exc:
            raise BuildError(f"contract {name} not found in {source_name}") from exc
        artifacts[name] = {
            "contractName": name,
            "sourceName": source_name,
            "abi": out["abi"],
            "bytecode": "0x" + out["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            "devdoc": out["devdoc"],
            "userdoc": out["userdoc"],
            "compiler": compiler,
            "sourceHash": shared_hash,
        }
    return artifacts


def compile_sources(
    sources: dict[str, str] | None = None, solc_binary: Path = SOLC_WRAPPER
) -> dict[str, dict[str, Any]]:
    """Compile `sources` (default: `src/`) and return the artifact of each name in ARTIFACT_NAMES."""
    sources = read_sources() if sources is None else sources
    return artifacts_from(compile_output(sources, solc_binary), sources)


def render(artifact: dict[str, Any]) -> str:
    """Return the canonical file text of an artifact: sorted keys, two-space indent, final newline."""
    return json.dumps(artifact, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_artifacts(artifacts: dict[str, dict[str, Any]], build_dir: Path = BUILD_DIR) -> list[Path]:
    """Write each artifact to `build_dir/<Name>.json`; return the paths whose content changed."""
    build_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, artifact in artifacts.items():
        path = build_dir / f"{name}.json"
        text = render(artifact)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def differences(artifacts: dict[str, dict[str, Any]], build_dir: Path = BUILD_DIR) -> list[str]:
    """Return the artifact file names in `build_dir` that are missing, stale or not produced by the build."""
    stale = [
        f"{name}.json"
        for name, artifact in artifacts.items()
        if not (build_dir / f"{name}.json").exists()
        or (build_dir / f"{name}.json").read_text(encoding="utf-8") != render(artifact)
    ]
    expected = {f"{name}.json" for name in artifacts}
    extra = sorted(p.name for p in build_dir.glob("*.json") if p.name not in expected)
    return sorted(stale) + extra


def main(argv: list[str] | None = None) -> int:
    """Run the build (or the check) and return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m contracts.build", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a rebuild differs from the committed artifacts"
    )
    args = parser.parse_args(argv)
    try:
        artifacts = compile_sources()
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 2
    if args.check:
        diff = differences(artifacts, BUILD_DIR)
        if diff:
            print("artifacts differ from a rebuild: " + ", ".join(diff), file=sys.stderr)
            print("run `python -m contracts.build` and commit contracts/build/", file=sys.stderr)
            return 1
        print(f"{len(artifacts)} artifacts match a rebuild")
        return 0
    changed = write_artifacts(artifacts, BUILD_DIR)
    print(f"wrote {len(artifacts)} artifacts ({len(changed)} changed) to {BUILD_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
