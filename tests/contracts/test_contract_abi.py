"""House rules checked on the sources and the artifacts: NatSpec, error names, event tense."""

from __future__ import annotations

import re

import pytest

from contracts import ARTIFACT_NAMES, build, load_artifact


def _signature(item: dict) -> str:
    return f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_every_function_has_natspec(name: str) -> None:
    """Every external function has a notice; every state-changing one lists Requirements and events."""
    artifact = load_artifact(name)
    notices = artifact["userdoc"].get("methods", {})
    details = artifact["devdoc"].get("methods", {})
    for item in artifact["abi"]:
        if item["type"] != "function":
            continue
        sig = _signature(item)
        assert notices.get(sig, {}).get("notice"), f"{name}.{sig} has no @notice"
        if item["stateMutability"] not in ("view", "pure"):
            text = details.get(sig, {}).get("details", "")
            assert "Requirements" in text, f"{name}.{sig} lists no Requirements"
            assert "Emits" in text, f"{name}.{sig} names no events"


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_errors_and_events_are_documented(name: str) -> None:
    """Every custom error has @dev text and every event a @notice."""
    artifact = load_artifact(name)
    error_docs = artifact["devdoc"].get("errors", {})
    event_docs = artifact["userdoc"].get("events", {})
    for item in artifact["abi"]:
        if item["type"] == "error":
            assert error_docs.get(_signature(item)), f"{name}: error {item['name']} undocumented"
        if item["type"] == "event":
            assert event_docs.get(_signature(item)), f"{name}: event {item['name']} undocumented"


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_error_names_start_with_the_contract_name(name: str) -> None:
    """Custom errors follow `<Contract><Problem>`."""
    errors = [item["name"] for item in load_artifact(name)["abi"] if item["type"] == "error"]
    assert errors
    assert [e for e in errors if not e.startswith(name)] == []


@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_event_names_are_past_tense(name: str) -> None:
    """Events are named for what happened (a past participle: `...ed`, or irregular `...Withdrawn`)."""
    events = [item["name"] for item in load_artifact(name)["abi"] if item["type"] == "event"]
    assert events
    assert [e for e in events if not re.search(r"(ed|Withdrawn)$", e)] == []


def test_error_selectors_are_unique_across_contracts() -> None:
    """No two custom errors share a selector, so a revert decodes to one name."""
    from eth_utils import keccak

    seen: dict[bytes, str] = {}
    for name in ARTIFACT_NAMES:
        for item in load_artifact(name)["abi"]:
            if item["type"] == "error":
                selector = keccak(text=_signature(item))[:4]
                assert seen.setdefault(selector, item["name"]) == item["name"]


def test_sources_use_no_revert_strings_and_the_pinned_pragma() -> None:
    """Sources revert only with custom errors and declare `pragma solidity ^0.8.24`."""
    for path, text in build.read_sources().items():
        assert "pragma solidity ^0.8.24;" in text, path
        assert not re.search(r"\brequire\s*\(", text), path
        assert not re.search(r"\brevert\s*\(", text), path
        assert "SPDX-License-Identifier: Apache-2.0" in text, path
