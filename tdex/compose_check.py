"""Static check of `docker-compose.yml` (no Docker engine needed): `make compose-check`.

    .venv/bin/python -m tdex.compose_check [docker-compose.yml] [--root DIR]

It parses the file and checks what the engine would only find at start-up, and what it never
would: services have an image or a build, ports are well formed and not published twice, named
volumes are declared, `depends_on` targets exist (with a health check for `service_healthy`), the
services have the environment they need, secrets fail fast (`${VAR:?message}`), mounted host files
exist (or are made by the documented steps, `PRODUCED`), the Besu genesis milestones cover the
contracts' `evmVersion`, and QBFT has at least four validators. When the `compose-spec` package is
installed, the file is also validated against the Compose Specification.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PRODUCED", "check", "main"]

REPO = Path(__file__).resolve().parent.parent
BASE_GENESIS = "deploy/besu/genesis.json"
# Host paths made by the documented steps (docs/deploy.md), never committed: the network generator
# (validator keys are secret), account keys, keystores and the node member directory.
PRODUCED: tuple[str, ...] = ("var/besu-network/", "var/secrets/", "var/keys/", "var/nodes/")
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|PASSPHRASE|_KEY)$")
NOT_SECRET = frozenset({"TDEX_BUREAU_PUBLIC_KEY"})
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}")
PORT = re.compile(r"^(?:(?P<ip>[0-9.]+):)?(?:(?P<host>\d{1,5}):)?(?P<container>\d{1,5})(?:/(?:tcp|udp))?$")
# What each kind of service must find in its environment.
REQUIRED_ENV: dict[str, tuple[str, ...]] = {
    "exchange": (
        "TDEX_MODE",
        "DATABASE_URL",
        "TDEX_SECRET_KEY",
        "TDEX_CHAIN_URL",
        "TDEX_LEDGER_MANIFEST",
        "TDEX_ACCOUNT_KEYS",
        "TDEX_BUREAU_USCC",
        "TDEX_BUREAU_PUBLIC_KEY",
        # A production exchange with a chain refuses to start without its audit anchoring.
        "TDEX_LOG_OPERATOR_KEYSTORE",
        "TDEX_LOG_OPERATOR_PASSPHRASE",
        "TDEX_WITNESSES",
    ),
    "node": ("TDEX_KEYSTORE_PASSPHRASE",),
    "postgres": ("POSTGRES_PASSWORD",),
    "deployer": ("TDEX_DEPLOYER_KEY",),
}
# solc evmVersion -> the Besu genesis milestones that must be active at genesis (block 0 / time 0).
_FORKS: tuple[tuple[str, str], ...] = (
    ("homestead", "homesteadBlock"),
    ("tangerineWhistle", "eip150Block"),
    ("spuriousDragon", "eip158Block"),
    ("byzantium", "byzantiumBlock"),
    ("constantinople", "constantinopleBlock"),
    ("petersburg", "petersburgBlock"),
    ("istanbul", "istanbulBlock"),
    ("berlin", "berlinBlock"),
    ("london", "londonBlock"),
    ("paris", ""),
    ("shanghai", "shanghaiTime"),
    ("cancun", "cancunTime"),
    ("prague", "pragueTime"),
)


def required_milestones(evm_version: str) -> list[str]:
    """The genesis config keys that must be 0 for contracts compiled for `evm_version`."""
    names = [name for name, _ in _FORKS]
    if evm_version not in names:
        raise ValueError(f"unknown evmVersion {evm_version!r}")
    return [key for name, key in _FORKS[: names.index(evm_version) + 1] if key]


def contracts_evm_version(root: Path) -> tuple[str | None, list[str]]:
    """The one `compiler.evmVersion` of the committed artifacts, and problems found reading them."""
    versions: dict[str, str] = {}
    for path in sorted((root / "contracts" / "build").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        versions[path.name] = str(data.get("compiler", {}).get("evmVersion", ""))
    if not versions:
        return None, ["contracts/build holds no artifacts: cannot read the contracts' evmVersion"]
    distinct = sorted(set(versions.values()))
    if len(distinct) != 1:
        return None, [f"contracts/build artifacts disagree on evmVersion: {distinct}"]
    return distinct[0], []


def check_genesis(genesis: Mapping[str, Any], evm_version: str, where: str) -> list[str]:
    """Milestones, zero base fee and QBFT in a Besu genesis."""
    problems: list[str] = []
    config = genesis.get("config", {})
    for key in required_milestones(evm_version):
        if config.get(key) != 0:
            problems.append(
                f"{where}: contracts are compiled for evmVersion {evm_version!r} but the genesis "
                f"milestone {key} is {config.get(key)!r} (must be 0)"
            )
    if config.get("zeroBaseFee") is not True:
        problems.append(f"{where}: config.zeroBaseFee must be true (free gas on the permissioned chain)")
    if not isinstance(config.get("qbft"), dict):
        problems.append(f"{where}: config.qbft is missing (the network runs QBFT)")
    return problems


def _env(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        out: dict[str, str] = {}
        for item in raw:
            name, _, value = str(item).partition("=")
            out[name] = value
        return out
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _command(service: Mapping[str, Any]) -> str:
    cmd = service.get("command") or ""
    return " ".join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd)


def _kind(name: str, service: Mapping[str, Any]) -> str:
    image = str(service.get("image", ""))
    cmd = _command(service)
    if image.startswith("hyperledger/besu"):
        return "besu"
    if image.startswith("postgres"):
        return "postgres"
    if "node serve" in cmd:
        return "node"
    if "tdex serve" in cmd:
        return "exchange"
    if "chain deploy" in cmd:
        return "deployer"
    return "other"


def _mounts(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for vol in service.get("volumes") or []:
        if isinstance(vol, dict):
            out.append((str(vol.get("source", "")), str(vol.get("target", ""))))
        else:
            parts = str(vol).split(":")
            out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def _check_secrets(text: str, services: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for match in INTERPOLATION.finditer(text):
        name, op = match.group(1), match.group(2) or ""
        if SECRET_NAME.search(name) and name not in NOT_SECRET and op != ":?":
            problems.append(
                f"secret ${{{name}}} must fail fast when unset: write ${{{name}:?message}}, not "
                f"{match.group(0)!r}"
            )
    for sname, service in services.items():
        for key, value in _env(service).items():
            if (
                SECRET_NAME.search(key)
                and key not in NOT_SECRET
                and "${" not in value
                and not value.startswith("/")
            ):
                problems.append(
                    f"service {sname}: secret {key} is written in the file; use ${{{key}:?message}}"
                )
    return problems


def _spec_problems(doc: Mapping[str, Any]) -> list[str]:
    try:
        from compose_spec import PyCompose  # optional: validates against the Compose Specification
    except ImportError:
        return []
    try:
        # The parsed document (YAML merge keys resolved), which the binding's own YAML reader refuses.
        PyCompose.from_json(json.dumps(doc))
    except Exception as exc:  # the binding raises its own error types
        return [f"not a valid Compose file: {exc}"]
    return []


def check(compose: Path, root: Path = REPO, produced: tuple[str, ...] = PRODUCED) -> list[str]:
    """Every problem found in `compose` (host paths resolve against `root`); empty when it is fine."""
    text = compose.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"{compose.name} does not parse as YAML: {exc}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        return [f"{compose.name} declares no services"]
    services: dict[str, Any] = doc["services"]
    declared_volumes = set((doc.get("volumes") or {}).keys())
    problems = _spec_problems(doc)
    published: dict[str, str] = {}
    kinds = {name: _kind(name, svc) for name, svc in services.items()}

    for name, svc in services.items():
        if not isinstance(svc, dict):
            problems.append(f"service {name} is not a mapping")
            continue
        if not svc.get("image") and not svc.get("build"):
            problems.append(f"service {name} has neither image nor build")
        build = svc.get("build")
        if build:
            context = build if isinstance(build, str) else str(build.get("context", "."))
            dockerfile = (
                "Dockerfile" if isinstance(build, str) else str(build.get("dockerfile", "Dockerfile"))
            )
            if not (root / context / dockerfile).is_file():
                problems.append(f"service {name}: build context {context} has no {dockerfile}")
        for port in svc.get("ports") or []:
            m = PORT.match(str(port))
            if m is None:
                problems.append(f"service {name}: port {port!r} is not [ip:]host:container[/proto]")
                continue
            for part in ("host", "container"):
                if m.group(part) and not 0 < int(m.group(part)) < 65536:
                    problems.append(f"service {name}: port {port!r} is out of range")
            if m.group("host"):
                key = f"{m.group('ip') or '*'}:{m.group('host')}"
                if key in published:
                    problems.append(
                        f"service {name}: host port {key} is already published by {published[key]}"
                    )
                published[key] = name
        for source, target in _mounts(svc):
            if source.startswith((".", "/")):
                rel = source.removeprefix("./")
                if not (root / rel).exists() and not rel.startswith(produced):
                    problems.append(
                        f"service {name}: mounted host path {source} (-> {target}) does not exist and "
                        "no documented step produces it"
                    )
            elif source and source not in declared_volumes:
                problems.append(f"service {name}: named volume {source!r} is not declared under volumes:")
        deps = svc.get("depends_on") or {}
        dep_items = deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)
        for target, cond in dep_items:
            if target not in services:
                problems.append(f"service {name}: depends_on {target!r}, which is not a service")
                continue
            condition = (cond or {}).get("condition", "service_started")
            if condition == "service_healthy" and not services[target].get("healthcheck"):
                problems.append(
                    f"service {name}: depends_on {target} with service_healthy, "
                    f"but {target} has no healthcheck"
                )
        kind = kinds[name]
        env = _env(svc)
        for var in REQUIRED_ENV.get(kind, ()):
            if var not in env:
                problems.append(f"service {name} ({kind}): environment variable {var} is not set")
        if kind in {"exchange", "node", "besu", "postgres"} and not svc.get("healthcheck"):
            problems.append(f"service {name} ({kind}) has no healthcheck")
        if kind == "exchange" and env.get("TDEX_MODE") != "production":
            problems.append(f"service {name}: TDEX_MODE must be production")
        if kind == "besu" and "--min-gas-price=0" not in _command(svc):
            problems.append(f"service {name}: Besu must run with --min-gas-price=0 (free gas)")

    problems += _check_secrets(text, services)

    validators = [n for n, k in kinds.items() if k == "besu"]
    if len(validators) < 4:
        problems.append(f"QBFT needs at least 4 validators; the file runs {len(validators)} Besu service(s)")
    keys = [src for n in validators for src, tgt in _mounts(services[n]) if tgt.endswith("/key")]
    if len(set(keys)) != len(validators):
        problems.append("every Besu validator must mount its own node key file")

    evm, evm_problems = contracts_evm_version(root)
    problems += evm_problems
    if evm is not None:
        base = root / BASE_GENESIS
        if not base.exists():
            problems.append(f"{BASE_GENESIS} is missing")
        else:
            problems += check_genesis(json.loads(base.read_text(encoding="utf-8")), evm, BASE_GENESIS)
        for n in validators:
            for src, tgt in _mounts(services[n]):
                path = root / src.removeprefix("./")
                if tgt.endswith("genesis.json") and path.exists() and path.resolve() != base.resolve():
                    generated = json.loads(path.read_text(encoding="utf-8"))
                    problems += check_genesis(generated, evm, src)
                    problems += _check_extra_data(generated, src)
    return sorted(set(problems), key=problems.index)


def _check_extra_data(genesis: Mapping[str, Any], where: str) -> list[str]:
    import rlp

    try:
        fields = rlp.decode(bytes.fromhex(str(genesis.get("extraData", "")).removeprefix("0x")))
        count = len(fields[1])
    except Exception:
        return [f"{where}: extraData is not QBFT RLP (regenerate with deploy/besu/make_network.py)"]
    if count < 4:
        return [f"{where}: QBFT extraData names {count} validator(s); at least 4 are needed"]
    return []


def main(argv: list[str] | None = None) -> int:
    """Print each problem and return 1, or print a one-line summary and return 0."""
    parser = argparse.ArgumentParser(description="Static check of docker-compose.yml")
    parser.add_argument("compose", nargs="?", type=Path, default=REPO / "docker-compose.yml")
    parser.add_argument("--root", type=Path, default=REPO)
    args = parser.parse_args(argv)
    problems = check(args.compose, args.root)
    for problem in problems:
        print(f"compose-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"compose-check: {args.compose.name} ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
