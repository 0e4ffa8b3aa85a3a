"""Generate the four-validator QBFT network for `docker-compose.yml`.

    .venv/bin/python -m deploy.besu.make_network var/besu-network [--validators 4]

Reads the committed base genesis (`deploy/besu/genesis.json`: chain id, milestones, zero base fee,
QBFT timing) and writes to the output folder:

- `genesis.json`: the base genesis with the QBFT `extraData` naming the validators;
- `validator-<n>/key` (mode 0600, the node's secp256k1 private key, SECRET) and
  `validator-<n>/key.pub`, `validator-<n>/address`;
- `permissions_config.toml` (the node allow-list) and `static-nodes.json` (enode URLs by
  compose service name, `besu-<n>`).

Besu cannot generate keys here (no engine); the keys never go into git. An existing folder is
refused unless `--force`, so a network is not silently replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import rlp
from eth_keys import keys

BASE_GENESIS = Path(__file__).with_name("genesis.json")
P2P_PORT = 30303
VANITY = b"\x00" * 32


def qbft_extra_data(addresses: list[bytes]) -> str:
    """RLP of [32-byte vanity, [validators], no vote, round 0, no seals], as 0x-hex."""
    if any(len(a) != 20 for a in addresses):
        raise ValueError("validator addresses must be 20 bytes")
    return "0x" + rlp.encode([VANITY, addresses, [], 0, []]).hex()


def decode_extra_data(extra: str) -> list[str]:
    """The validator addresses (0x-hex, lower case) named in a QBFT `extraData`."""
    fields = rlp.decode(bytes.fromhex(extra.removeprefix("0x")))
    return ["0x" + bytes(a).hex() for a in fields[1]]


def build(out: Path, validators: int = 4, base: Path = BASE_GENESIS) -> dict[str, Any]:
    """Write the network into `out`; returns a public summary (addresses, enodes)."""
    if validators < 4:
        raise ValueError("QBFT needs at least 4 validators to tolerate one faulty node")
    genesis = json.loads(base.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    addresses: list[bytes] = []
    enodes: list[str] = []
    for n in range(1, validators + 1):
        private = keys.PrivateKey(secrets.token_bytes(32))
        folder = out / f"validator-{n}"
        folder.mkdir(exist_ok=True)
        key_file = folder / "key"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write("0x" + private.to_bytes().hex())
        os.chmod(key_file, 0o600)
        public = private.public_key
        (folder / "key.pub").write_text("0x" + public.to_bytes().hex(), encoding="ascii")
        (folder / "address").write_text(public.to_checksum_address(), encoding="ascii")
        addresses.append(public.to_canonical_address())
        enodes.append(f"enode://{public.to_bytes().hex()}@besu-{n}:{P2P_PORT}")
    genesis["extraData"] = qbft_extra_data(addresses)
    (out / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n", encoding="utf-8")
    (out / "static-nodes.json").write_text(json.dumps(enodes, indent=2) + "\n", encoding="utf-8")
    allow = ",\n  ".join(json.dumps(e) for e in enodes)
    (out / "permissions_config.toml").write_text(f"nodes-allowlist=[\n  {allow}\n]\n", encoding="utf-8")
    return {"validators": ["0x" + a.hex() for a in addresses], "enodes": enodes}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: generate the network into the folder given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="output folder (e.g. var/besu-network; never commit it)")
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--force", action="store_true", help="replace an existing network's keys")
    args = parser.parse_args(argv)
    if (args.out / "genesis.json").exists() and not args.force:
        print(f"error: {args.out} already holds a network; pass --force to replace it", file=sys.stderr)
        return 2
    try:
        summary = build(args.out, args.validators)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
