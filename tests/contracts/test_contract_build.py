"""The build: pinned compiler settings, reproducible artifacts, and the --check gate."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contracts import ARTIFACT_NAMES, ArtifactNotFoundError, artifact_sha256, build, load_artifact


@pytest.fixture(scope="module")
def output() -> dict[str, Any]:
    """Compile the sources once for the module with the real compiler wrapper."""
    return build.compile_output(build.read_sources())


@pytest.fixture(scope="module")
def rebuilt(output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The artifacts of that compile."""
    return build.artifacts_from(output, build.read_sources())


@pytest.mark.slow
def test_rebuild_reproduces_committed_artifacts(rebuilt: dict[str, dict[str, Any]]) -> None:
    """A fresh compile gives byte-identical files to the committed ones."""
    assert build.differences(rebuilt, build.BUILD_DIR) == []


@pytest.mark.slow
def test_check_fails_on_a_stale_or_extra_artifact(
    rebuilt: dict[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--check` exits 1 and names the file when a committed artifact is edited or unexpected."""
    shutil.copytree(build.BUILD_DIR, tmp_path, dirs_exist_ok=True)
    monkeypatch.setattr(build, "BUILD_DIR", tmp_path)
    monkeypatch.setattr(build, "compile_sources", lambda: rebuilt)
    assert build.main(["--check"]) == 0

    edited = json.loads((tmp_path / "AuditAnchor.json").read_text())
    edited["bytecode"] = edited["bytecode"][:-2] + "00"
    (tmp_path / "AuditAnchor.json").write_text(build.render(edited))
    (tmp_path / "Stray.json").write_text("{}\n")
    assert build.differences(rebuilt, tmp_path) == ["AuditAnchor.json", "Stray.json"]
    assert build.main(["--check"]) == 1

    assert build.main([]) == 0
    assert (tmp_path / "AuditAnchor.json").read_text() == build.render(rebuilt["AuditAnchor"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_implementation_abi_matches_its_interface(output: dict[str, Any], name: str) -> None:
    """Each contract exposes exactly its interface's functions, errors and events, with the same names."""

    def surface(abi: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
        return {
            (item["type"], item["name"]): (
                [(i["name"], i["type"]) for i in item.get("inputs", [])],
                [(o["name"], o["type"]) for o in item.get("outputs", [])],
            )
            for item in abi
            if item["type"] in ("function", "error", "event")
        }

    interface = output["contracts"][f"I{name}.sol"][f"I{name}"]["abi"]
    assert surface(load_artifact(name)["abi"]) == surface(interface)


def test_committed_source_hash_matches_sources() -> None:
    """Every artifact records the hash of today's sources, so an unbuilt source edit is caught fast."""
    expected = build.source_hash(build.read_sources())
    for name in ARTIFACT_NAMES:
        assert load_artifact(name)["sourceHash"] == expected


def test_source_hash_depends_on_names_and_contents() -> None:
    """Renaming or editing a source changes the source hash; ordering does not."""
    base = build.source_hash({"A.sol": "a", "B.sol": "b"})
    assert build.source_hash({"B.sol": "b", "A.sol": "a"}) == base
    assert build.source_hash({"A.sol": "a", "C.sol": "b"}) != base
    assert build.source_hash({"A.sol": "a", "B.sol": "b "}) != base


def test_artifacts_record_pinned_compiler_settings() -> None:
    """Each artifact names the pinned compiler, EVM version, optimizer and metadata settings."""
    for name in ARTIFACT_NAMES:
        artifact = load_artifact(name)
        compiler = artifact["compiler"]
        assert compiler["version"] == "0.8.28"
        assert compiler["fullVersion"].startswith("0.8.28+commit.")
        assert compiler["evmVersion"] == build.EVM_VERSION == "cancun"
        assert compiler["optimizer"] == build.OPTIMIZER
        assert compiler["metadata"] == {"bytecodeHash": "none"}
        assert artifact["contractName"] == name
        assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 2
        assert artifact["deployedBytecode"].startswith("0x") and len(artifact["deployedBytecode"]) > 2


def test_artifact_files_are_canonical() -> None:
    """Committed files are exactly what `render` produces (sorted keys, stable layout)."""
    for name in ARTIFACT_NAMES:
        path = build.BUILD_DIR / f"{name}.json"
        assert path.read_text(encoding="utf-8") == build.render(json.loads(path.read_text()))


def test_deployed_code_fits_the_size_limit() -> None:
    """Runtime bytecode stays under the EIP-170 limit of 24,576 bytes."""
    for name in ARTIFACT_NAMES:
        assert (len(load_artifact(name)["deployedBytecode"]) - 2) // 2 < 24_576


def test_load_artifact_returns_fresh_copies() -> None:
    """Changing a loaded artifact does not change the next one loaded."""
    first = load_artifact("Consortium")
    first["abi"].clear()
    assert load_artifact("Consortium")["abi"]


def test_unknown_artifact_raises_typed_error() -> None:
    """Asking for a contract that is not built raises ArtifactNotFoundError naming it."""
    with pytest.raises(ArtifactNotFoundError) as info:
        load_artifact("Nope")
    assert info.value.code == "contracts.artifact_not_found"
    assert "'Nope'" in str(info.value)


def test_artifact_sha256_is_the_file_hash() -> None:
    """The manifest hash of an artifact is the SHA-256 of its committed file."""
    data = (build.BUILD_DIR / "DataCatalog.json").read_bytes()
    assert artifact_sha256("DataCatalog") == hashlib.sha256(data).hexdigest()


def test_wrapper_answers_version_like_native_solc() -> None:
    """The solc-js wrapper prints the native `Version: x.y.z+commit.h` line."""
    out = subprocess.run([str(build.SOLC_WRAPPER), "--version"], capture_output=True, text=True, check=True)
    assert "Version: 0.8.28+commit.7893614a" in out.stdout
