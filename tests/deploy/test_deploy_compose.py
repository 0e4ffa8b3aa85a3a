"""The compose file's static check and the QBFT network generator."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import rlp
from eth_keys import keys

from deploy.besu.make_network import build, decode_extra_data, main, qbft_extra_data
from tdex.compose_check import REPO, check, check_genesis, required_milestones

COMPOSE = REPO / "docker-compose.yml"


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = COMPOSE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "docker-compose.yml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_real_file_passes() -> None:
    """The committed docker-compose.yml has no problems."""
    assert check(COMPOSE) == []


def test_missing_secret_guard_fails(tmp_path: Path) -> None:
    """A secret with a default instead of `:?` is named."""
    path = _broken(tmp_path, "${TDEX_SECRET_KEY:?", "${TDEX_SECRET_KEY:-")
    problems = check(path, REPO)
    assert any("TDEX_SECRET_KEY" in p and "fail fast" in p for p in problems), problems


def test_literal_secret_fails(tmp_path: Path) -> None:
    """A secret written into the file is named."""
    path = _broken(
        tmp_path,
        "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (the exchange database password)}\n",
        "hunter2\n",
    )
    problems = check(path, REPO)
    assert any("POSTGRES_PASSWORD is written in the file" in p for p in problems), problems


def test_dangling_depends_on_fails(tmp_path: Path) -> None:
    """A depends_on naming no service is named."""
    path = _broken(
        tmp_path,
        "      postgres:\n        condition: service_healthy",
        "      pg:\n        condition: service_healthy",
    )
    problems = check(path, REPO)
    assert any("depends_on 'pg', which is not a service" in p for p in problems), problems


def test_service_healthy_without_healthcheck_fails(tmp_path: Path) -> None:
    """service_healthy on a service without a health check is named."""
    path = _broken(tmp_path, '      test: ["CMD-SHELL", "pg_isready -U tdex -d tdex"]', "      disable: true")
    text = path.read_text(encoding="utf-8").replace(
        "    healthcheck:\n      disable: true\n      interval: 5s\n      timeout: 5s\n      retries: 20\n",
        "",
    )
    path.write_text(text, encoding="utf-8")
    problems = check(path, REPO)
    assert any(
        "depends_on postgres with service_healthy, but postgres has no healthcheck" in p for p in problems
    )


def test_mismatched_evm_milestone_fails(tmp_path: Path) -> None:
    """A genesis without the cancun milestone disagrees with the cancun-compiled contracts."""
    root = tmp_path / "repo"
    (root / "deploy" / "besu").mkdir(parents=True)
    (root / "contracts").symlink_to(REPO / "contracts")
    genesis = json.loads((REPO / "deploy/besu/genesis.json").read_text(encoding="utf-8"))
    del genesis["config"]["cancunTime"]
    (root / "deploy/besu/genesis.json").write_text(json.dumps(genesis), encoding="utf-8")
    problems = check(COMPOSE, root)
    assert any("evmVersion 'cancun'" in p and "cancunTime" in p for p in problems), problems


def test_missing_mounted_file_fails(tmp_path: Path) -> None:
    """A bind mount of a file that neither exists nor is produced by a documented step is named."""
    path = _broken(tmp_path, "      - ledger:/ledger:ro\n", "      - ./deploy/nowhere.toml:/etc/x.toml:ro\n")
    problems = check(path, REPO)
    assert any("./deploy/nowhere.toml" in p and "does not exist" in p for p in problems), problems


def test_too_few_validators_fails(tmp_path: Path) -> None:
    """Three Besu services are not enough for QBFT."""
    text = COMPOSE.read_text(encoding="utf-8")
    start = text.index("  besu-4:\n")
    end = text.index("  postgres:\n")
    path = tmp_path / "docker-compose.yml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = check(path, REPO)
    assert any("at least 4 validators" in p for p in problems), problems


def test_duplicate_host_port_fails(tmp_path: Path) -> None:
    """Two services publishing one host port are named."""
    path = _broken(tmp_path, 'ports: ["8000:8000"]', 'ports: ["127.0.0.1:8545:8000"]')
    problems = check(path, REPO)
    assert any("already published by besu-1" in p for p in problems), problems


def test_required_milestones_cover_earlier_forks() -> None:
    """Cancun needs shanghai and london too, and an unknown EVM is refused."""
    needed = required_milestones("cancun")
    assert {"cancunTime", "shanghaiTime", "londonBlock"} <= set(needed)
    assert "pragueTime" not in needed
    with pytest.raises(ValueError, match="unknown evmVersion"):
        required_milestones("frontier-x")


def test_generated_network(tmp_path: Path) -> None:
    """The generator writes secret 0600 keys, a genesis naming the four validators, and allow-lists."""
    summary = build(tmp_path / "net")
    genesis = json.loads((tmp_path / "net/genesis.json").read_text(encoding="utf-8"))
    assert decode_extra_data(genesis["extraData"]) == summary["validators"]
    assert check_genesis(genesis, "cancun", "generated") == []
    for n in range(1, 5):
        key = tmp_path / f"net/validator-{n}/key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        private = keys.PrivateKey(bytes.fromhex(key.read_text().removeprefix("0x")))
        assert private.public_key.to_canonical_address().hex() == summary["validators"][n - 1][2:]
    allow = (tmp_path / "net/permissions_config.toml").read_text(encoding="utf-8")
    assert all(e in allow for e in summary["enodes"])
    assert main([str(tmp_path / "net")]) == 2  # refuses to replace an existing network


def test_extra_data_layout() -> None:
    """extraData is RLP [vanity, validators, no vote, round 0, no seals]."""
    extra = qbft_extra_data([b"\x11" * 20] * 4)
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(extra[2:]))
    assert vanity == b"\x00" * 32 and len(validators) == 4 and vote == [] and round_ == b"" and seals == []
    assert extra.endswith("c080c0")


def test_missing_dockerfile_fails(tmp_path: Path) -> None:
    """A build whose context holds no Dockerfile is named."""
    path = _broken(tmp_path, "    build: .\n", "    build: ./deploy\n", count=2)
    problems = check(path, REPO)
    assert any("build context ./deploy has no Dockerfile" in p for p in problems), problems
