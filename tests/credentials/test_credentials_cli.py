"""`tdex cert` and `tdex credit` end to end on one in-process chain, through typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ledger
from keys import Keystore
from ledger import Admin, Capability, Role, Signer
from ledger.ids import org_id
from tdex.commands import cert as cert_cli
from tdex.commands import credit as credit_cli

PASS = "cli passphrase"
SECRET = "subject-secret-for-cli-tests-01"
USCC = "91110000600037341L"
VECTOR = Path(__file__).parent / "vectors" / "eddsa-jcs-2022" / "signedJCS.json"
FAST = ["--kdf-profile", "fast-test"]


@dataclass
class Env:
    """The temporary home, the shared chain and the organisations' DIDs."""

    home: Path
    chain: ledger.Chain
    dids: dict[str, str]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Keystores for a market regulator, a tax bureau and a credit centre, admitted on one chain."""
    home = tmp_path_factory.mktemp("tdex")
    store = Keystore(home / "keys", kdf_profile="fast-test")
    orgs = {
        "market": (Capability.CERT_ISSUER, "11100000000013127D"),
        "tax": (Capability.CREDIT_RECORDER, None),
        "centre": (Capability.NONE, None),
    }
    with ledger.connect("eth-tester") as chain:
        bureau = Signer.generate()
        created = {name: store.create(name, PASS, uscc=uscc) for name, (_, uscc) in orgs.items()}
        chain.fund([bureau.address, *(k.account_address for k in created.values())])
        dep = ledger.deploy(
            chain, bureau, [Admin(org_id("bureau"), bureau.address)], manifest_path=home / "m.json"
        )
        for name, (caps, _) in orgs.items():
            dep.consortium.propose_admission(
                bureau, org_id(name), created[name].account_address, Role.DEPARTMENT, caps
            )
        yield Env(home, chain, {name: k.identity.did for name, k in created.items()})


@pytest.fixture
def run(env: Env, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Invoke a `tdex cert` or `tdex credit` command against the shared chain; returns the result."""
    monkeypatch.setenv("TDEX_HOME", str(env.home / "keys"))
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASS)
    monkeypatch.setenv("TDEX_CERT_DIR", str(env.home / "certs"))
    monkeypatch.setenv("TDEX_SUBJECT_SECRET", SECRET)

    @contextmanager
    def shared(_rpc: str) -> Iterator[ledger.Chain]:
        yield env.chain

    monkeypatch.setattr(cert_cli, "connect", shared)
    monkeypatch.setattr(credit_cli, "connect", shared)
    runner = CliRunner()

    def invoke(group: str, *args: str) -> Any:
        app = cert_cli.app if group == "cert" else credit_cli.app
        return runner.invoke(app, [str(a) for a in args])

    return invoke


def _deployed(run: Any, env: Env) -> None:
    if not (env.home / "certs" / "deployment.json").exists():
        result = run(
            "cert", "deploy", "--org", "market", "--rpc", "x", "--manifest", env.home / "m.json", *FAST
        )
        assert result.exit_code == 0, result.output


def test_certificate_lifecycle(run: Any, env: Env, tmp_path: Path) -> None:
    """Issue and anchor a licence, verify it, suspend, reinstate and revoke it; exit codes follow."""
    _deployed(run, env)
    claims = tmp_path / "claims.json"
    claims.write_text(
        json.dumps(
            {
                "uscc": USCC,
                "name": "某某物流有限公司",
                "entityType": "有限责任公司",
                "legalRepresentative": "张三",
                "establishedOn": "2019-05-20",
                "domicile": "某市某区物流园路1号",
                "businessScope": "道路普通货物运输",
                "registrationAuthority": "某市市场监督管理局",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    licence = tmp_path / "licence.json"
    issued = run(
        "cert", "issue", "--org", "market", "--subject", claims, "--out", licence, "--rpc", "x", *FAST
    )
    assert issued.exit_code == 0, issued.output

    def verify(*extra: str) -> tuple[int, dict[str, Any]]:
        result = run("cert", "verify", licence, "--json", "--rpc", "x", *extra)
        return result.exit_code, json.loads(result.stdout)

    code, report = verify()
    assert code == 0 and {c["outcome"] for c in report["checks"].values()} == {"pass"}, report
    code, report = verify("--trusted-issuer", env.dids["tax"])
    assert code == 1 and report["checks"]["proof"]["code"] == "credentials.proof.untrusted_issuer"

    for action, expected in [("suspend", "credentials.status.suspended"), ("reinstate", None)]:
        changed = run("cert", action, licence, "--org", "market", "--reason", "检查", "--rpc", "x", *FAST)
        assert changed.exit_code == 0, changed.output
        code, report = verify()
        assert (code == 0) == (expected is None)
        assert report["checks"]["status"].get("code") == expected
    status = run("cert", "status", licence, "--json", "--rpc", "x")
    assert json.loads(status.stdout) == {
        "credential": json.loads(licence.read_text())["id"],
        "lists": {"revocation": "clear", "suspension": "clear"},
        "registry": "active",
    }
    assert (
        run("cert", "revoke", licence, "--org", "market", "--reason", "吊销", "--rpc", "x", *FAST).exit_code
        == 0
    )
    code, report = verify()
    assert code == 1 and report["checks"]["anchor"]["code"] == "credentials.status.revoked"
    again = run("cert", "reinstate", licence, "--org", "market", "--reason", "x", "--rpc", "x", *FAST)
    assert again.exit_code == 1 and "credentials.issuance.error" in again.stderr


def test_outside_credential_is_valid_but_not_anchored(run: Any, env: Env, tmp_path: Path) -> None:
    """The W3C vector verifies with exit 0 against the chain and is reported not anchored."""
    _deployed(run, env)
    result = run("cert", "verify", VECTOR, "--json", "--rpc", "x")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["checks"]["anchor"]["outcome"] == "not_anchored"
    tampered = json.loads(VECTOR.read_text())
    tampered["credentialSubject"]["alumniOf"] = "Elsewhere"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    result = run("cert", "verify", bad)
    assert result.exit_code == 1 and "credentials.proof.invalid" in result.stdout
    assert run("cert", "verify", tmp_path / "missing.json").exit_code == 2


def test_credit_flow(run: Any, env: Env, tmp_path: Path) -> None:
    """Record a penalty, repair it, uphold a dispute, explain the score, attest it and check it as a bank."""
    _deployed(run, env)
    evidence = tmp_path / "penalty.json"
    evidence.write_text(json.dumps({"decision": "市监罚〔2026〕12号", "fine": "5000"}, ensure_ascii=False))
    rx = ["--rpc", "x", *FAST]
    penalty = run(
        "credit", "record", "--org", "tax", "--uscc", USCC, "--category", "administrative-penalty",
        "--weight", "-80", "--evidence", evidence, "--from", "2026-01-10", "--until", "2027-01-10", *rx,
    )  # fmt: skip
    assert penalty.exit_code == 0, penalty.output
    event_id = penalty.stdout.strip()
    other = run(
        "credit", "record", "--org", "tax", "--uscc", USCC, "--category", "tax-grade",
        "--weight", "-10", "--evidence", evidence, "--from", "2026-01-10", *rx,
    )  # fmt: skip
    second = other.stdout.strip()
    assert run("credit", "record", "--org", "market", "--uscc", USCC, "--category", "commendation",
               "--weight", "5", "--evidence", evidence, *rx).exit_code == 1  # fmt: skip

    def score() -> dict[str, Any]:
        result = run("credit", "score", USCC, "--at", "2026-03-01", "--json", "--rpc", "x")
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    before = score()
    assert before["score"] < 700 and [c["event"] for c in before["contributions"]] == [
        int(event_id),
        int(second),
    ]
    repaired = run(
        "credit", "correct", event_id, "--org", "tax", "--weight", "-20", "--evidence", evidence,
        "--decision", evidence, "--until", "2026-04-10", *rx,
    )  # fmt: skip
    assert repaired.exit_code == 0, repaired.output
    after = score()
    assert after["score"] > before["score"]
    assert after["contributions"][0]["note"] == f"corrected by event {repaired.stdout.strip()}"
    text = run("credit", "score", USCC, "--at", "2026-03-01", "--rpc", "x")
    assert "ADMINISTRATIVE_PENALTY" in text.stdout and "grade" in text.stdout

    grounds = tmp_path / "grounds.json"
    grounds.write_text(json.dumps({"request": "请求更正"}, ensure_ascii=False))
    assert run("credit", "dispute", second, "--org", "tax", "--grounds", grounds, *rx).exit_code == 0
    assert run("credit", "uphold", second, "--org", "tax", "--decision", grounds, *rx).exit_code == 0
    assert run("credit", "dispute", second, "--org", "tax", "--grounds", grounds, *rx).exit_code == 1

    attestation = tmp_path / "attestation.json"
    made = run(
        "credit", "attest", USCC, "--org", "centre", "--threshold", "600",
        "--audience", "did:web:bank.example", "--out", attestation, *rx,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    check = ["credit", "check", attestation, "--trusted-attester", env.dids["centre"], "--uscc", USCC]
    assert run(*check, "--min-score", "600").exit_code == 0
    stricter = run(*check, "--min-score", "650")
    assert stricter.exit_code == 1 and "attestation_invalid" in stricter.stderr
    refused = run("credit", "attest", USCC, "--org", "centre", "--threshold", "990", *rx)
    assert refused.exit_code == 1 and "below_threshold" in refused.stderr

    population = tmp_path / "population.json"
    population.write_text(json.dumps([USCC, {"uscc": "91350100M000100Y43", "grade": "D"}]))
    inspectors = tmp_path / "inspectors.json"
    inspectors.write_text(json.dumps(["i-1", "i-2", "i-3"]))
    plan = run("credit", "sample", "--seed", "0xabc", "--population", population, "--inspectors", inspectors,
               "--json", "--rpc", "x")  # fmt: skip
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["population"] == 2


def test_offline_issuer_cannot_switch_to_the_chain(run: Any, tmp_path: Path) -> None:
    """An issuer whose state was made without a chain refuses --rpc (its list versions are not on chain)."""
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"uscc": USCC, "name": "x", "entityType": "x", "legalRepresentative": "x",
                                  "establishedOn": "2019-05-20", "domicile": "x", "businessScope": "x",
                                  "registrationAuthority": "x"}))  # fmt: skip
    state = ["--state-dir", tmp_path / "offline"]
    offline = run("cert", "issue", "--org", "market", "--subject", claims, *state, *FAST)
    assert offline.exit_code == 0, offline.output
    credential = tmp_path / "c.json"
    credential.write_text(offline.stdout)
    assert run("cert", "verify", credential, *state).exit_code == 0
    switched = run("cert", "issue", "--org", "market", "--subject", claims, "--rpc", "x", *state, *FAST)
    assert switched.exit_code == 1 and "same --rpc" in switched.stderr
