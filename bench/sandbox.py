"""Benchmark of the sandbox core, each figure next to its peer measured in the same run.

Figures (times are CPU time of this process, so other work on a shared machine does not count):
- Federated logistic regression on scikit-learn's breast cancer data (70/30 stratified split, the
  training part over three nodes, at random and skewed by class), 30 FedAvg rounds of 10 local
  epochs with secure aggregation, against `LogisticRegression(C=1)` trained on the pooled data.
  ``fl_accuracy_gap_pp_*`` is central minus federated accuracy, in percentage points.
- One secure-aggregation FedAvg round (the local update and the evaluation of the received model)
  against the same round with clear vectors (``secagg_vs_plain``), median of interleaved rounds, on
  three nodes of 20,000 synthetic firms each (credit features); the same ratio on the breast cancer
  split, where local work is tiny and the fixed cost of masking dominates, is
  ``secagg_vs_plain_breast_cancer``.
- CKKS (TenSEAL, N=8192, 200-bit modulus) encryption and homomorphic sum of 100,000 values,
  decrypted by the requester, against python-paillier (2048-bit, gmpy2) on the first 2,000 of the
  same values, per value (``ckks_vs_paillier_speedup``).
- Encrypted credit scoring through the runner (public context loaded and checked, 8 features, 8,192
  firms, bank decrypts), scores per second.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from phe import paillier
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sandbox as sb
from keys import X25519EncryptionKey

ROUNDS = 30
LOCAL_EPOCHS = 10


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def _agreement(ids: list[str]) -> sb.Agree:
    private = {n: X25519EncryptionKey.generate() for n in ids}
    per_node = {
        n: sb.x25519_agree(n, private[n], {p: private[p].public_key for p in ids if p != n}) for n in ids
    }
    return lambda me, peer: per_node[me](me, peer)


def _coordinator(tables: list[sb.Table]) -> sb.FederatedCoordinator:
    registry = sb.default_registry()
    allowed = frozenset(t.digest for t in registry)
    ids = [f"dept-{i}" for i in range(len(tables))]
    agree = _agreement(ids)
    nodes = [
        sb.FederatedNode(
            i,
            t,
            sb.Runner(registry),
            sb.BudgetAccountant(f"grant-{i}", 1.0),
            allowed_templates=allowed,
            agree=agree,
            allow_plain=True,  # the clear baseline is what we compare against
        )
        for i, t in zip(ids, tables, strict=True)
    ]
    return sb.FederatedCoordinator(
        nodes,
        moments_template=registry.digest_of("fl.moments"),
        update_template=registry.digest_of("fl.local_update"),
    )


def _cancer_tables(x: np.ndarray, y: np.ndarray, parts: list[np.ndarray]) -> list[sb.Table]:
    items = tuple(
        sb.Item(f"f{j}", "float", lower=0.0, upper=float(np.ceil(x[:, j].max() * 2))) for j in range(30)
    )
    schema = sb.Schema((*items, sb.Item("malignant", "int", lower=0, upper=1)))
    tables = []
    for idx in parts:
        cols: dict[str, Any] = {f"f{j}": x[idx, j] for j in range(30)}
        cols["malignant"] = y[idx]
        tables.append(sb.Table.from_columns(schema, cols))
    return tables


def _accuracy(figures: dict[str, float]) -> list[sb.Table]:
    ds = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(
        ds.data, ds.target, test_size=0.3, random_state=0, stratify=ds.target
    )
    scaler = StandardScaler().fit(x_tr)
    central = LogisticRegression(C=1.0, max_iter=5000).fit(scaler.transform(x_tr), y_tr)
    central_acc = float(central.score(scaler.transform(x_te), y_te))
    rng = np.random.default_rng(0)
    iid = np.array_split(rng.permutation(len(y_tr)), 3)
    # Skewed by class: sort by label with a little jitter, so one node holds almost only benign
    # cases, one almost only malignant, one a mix.
    skewed = np.array_split(np.argsort(y_tr + rng.uniform(0, 1.2, len(y_tr)), kind="stable"), 3)
    plan = sb.TrainingPlan(
        "logistic",
        tuple(f"f{j}" for j in range(30)),
        "malignant",
        ROUNDS,
        LOCAL_EPOCHS,
        0.5,
        l2=1 / len(y_tr),
    )
    figures["central_accuracy"] = central_acc
    for name, parts in (("iid", iid), ("skewed", skewed)):
        model = _coordinator(_cancer_tables(x_tr, y_tr, parts)).train(plan)
        acc = float(np.mean(model.predict(x_te) == y_te))
        figures[f"fl_accuracy_{name}"] = acc
        figures[f"fl_accuracy_gap_pp_{name}"] = round(100 * (central_acc - acc), 3)
        shares = [float(y_tr[p].mean()) for p in parts]
        figures[f"node_class1_share_min_{name}"], figures[f"node_class1_share_max_{name}"] = (
            min(shares),
            max(shares),
        )
    figures["fl_accuracy"] = figures["fl_accuracy_iid"]
    figures["fl_accuracy_gap_pp"] = figures["fl_accuracy_gap_pp_iid"]
    return _cancer_tables(x_tr, y_tr, iid)


def _round_ratio(
    tables: list[sb.Table], features: tuple[str, ...], label: str, repeats: int
) -> tuple[float, float]:
    coordinator = _coordinator(tables)
    secure = sb.TrainingPlan("logistic", features, label, 1, LOCAL_EPOCHS, 0.5)
    plain = sb.TrainingPlan(**{**secure.__dict__, "secure": False})
    mean, scale = coordinator.standardisation(secure)
    d = len(features)
    params = {
        "kind": "logistic",
        "features": list(features),
        "label": label,
        "weights": [0.0] * (d + 1),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "learning_rate": 0.5,
        "local_epochs": LOCAL_EPOCHS,
        "l2": 0.0,
        "dp_clip": None,
        "dp_noise_multiplier": None,
        "dp_min_contributors": None,
        # A training round also carries the received model's evaluation (3 more masked values).
        "evaluate": "with_update",
    }
    update = sb.default_registry().digest_of("fl.local_update")
    times: dict[bool, list[float]] = {True: [], False: []}
    for r in range(repeats):
        # Interleaved, alternating which goes first, so drift in machine load hits both alike.
        for plan in (secure, plain) if r % 2 else (plain, secure):
            start = time.process_time()
            coordinator.aggregate(r + 1, update, params, d + 5, plan)
            times[plan.secure].append(time.process_time() - start)
    return statistics.median(times[True]), statistics.median(times[False])


def _he(figures: dict[str, float]) -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 10_000, 100_000).round(2)
    requester = sb.create_context()
    public = sb.public_context_bytes(requester)
    node_ctx = sb.load_public_context(public)

    def ckks_sum() -> float:
        blobs = sb.encrypt_values(node_ctx, values)
        # The aggregator folds every ciphertext into one; the requester adds up its 4,096 slots.
        summed = sb.add_ciphertexts(node_ctx, [[b] for b in blobs])
        return float(sb.decrypt_values(requester, summed, 4096).sum())

    dt, total = _cpu(ckks_sum)
    figures["ckks_encrypt_sum_us_per_value"] = dt / len(values) * 1e6
    figures["ckks_sum_abs_error"] = abs(total - float(values.sum()))
    pub, priv = paillier.generate_paillier_keypair(n_length=2048)
    few = values[:2000].tolist()

    def paillier_sum() -> float:
        enc = [pub.encrypt(v) for v in few]
        acc = enc[0]
        for e in enc[1:]:
            acc = acc + e
        return float(priv.decrypt(acc))

    dt_p, total_p = _cpu(paillier_sum)
    figures["paillier_encrypt_sum_us_per_value"] = dt_p / len(few) * 1e6
    figures["paillier_sum_abs_error"] = abs(total_p - float(sum(few)))
    figures["ckks_vs_paillier_speedup"] = (
        figures["paillier_encrypt_sum_us_per_value"] / figures["ckks_encrypt_sum_us_per_value"]
    )
    figures["ckks_public_context_mb"] = len(public) / 1e6

    firms = sb.credit_table(8192, 11)
    w = rng.normal(size=len(sb.CREDIT_FEATURES))
    model = sb.encrypt_model(node_ctx, w, -1.0)
    registry = sb.default_registry()
    digest = registry.digest_of("he.encrypted_scores")
    subjects = [str(s) for s in firms.column("uscc")]
    request = sb.RunRequest(
        "bank",
        digest,
        {"features": list(sb.CREDIT_FEATURES), "subject_item": "uscc", "subjects": subjects},
        frozenset({digest}),
        {"context": public, "weights": model.blobs},
    )

    def score() -> np.ndarray:
        result = sb.Runner(registry).run(
            request, firms, sb.ResourcePolicy(), sb.BudgetAccountant("bank", 1.0)
        )
        return sb.decrypt_scores(requester, result.output.blobs, len(subjects))

    dt_s, scores = _cpu(score)
    x = np.column_stack([firms.numeric(f) for f in sb.CREDIT_FEATURES])
    figures["encrypted_scores_per_s"] = len(subjects) / dt_s
    figures["encrypted_scores_max_abs_error"] = float(np.max(np.abs(scores - (x @ w - 1.0))))


def run() -> dict[str, Any]:
    """Run every measurement (about a minute); return the figures."""
    figures: dict[str, float] = {}
    cancer = _accuracy(figures)
    features = tuple(f"f{j}" for j in range(30))
    s, p = _round_ratio(cancer, features, "malignant", 30)
    figures["secagg_round_s_breast_cancer"], figures["plain_round_s_breast_cancer"] = s, p
    figures["secagg_vs_plain_breast_cancer"] = s / p
    firms = [sb.credit_table(20_000, seed) for seed in (21, 22, 23)]
    s, p = _round_ratio(firms, sb.CREDIT_FEATURES, "defaulted", 20)
    figures["secagg_round_s"], figures["plain_round_s"] = s, p
    figures["secagg_vs_plain"] = s / p
    _he(figures)
    return {
        "name": "sandbox",
        "figures": {k: round(v, 6) for k, v in sorted(figures.items())},
        "peer": {
            "fl_accuracy": "scikit-learn LogisticRegression(C=1) on the pooled training data",
            "secagg_round_s": "the same FedAvg round with clear vectors (no masks, no shares)",
            "ckks_encrypt_sum_us_per_value": "python-paillier 2048-bit with gmpy2, same values, same run",
            "encrypted_scores_per_s": "target 1,000 scores/s",
        },
        "setup": {
            "nodes": 3,
            "rounds": ROUNDS,
            "local_epochs": LOCAL_EPOCHS,
            "secagg_workload": "3 nodes x 20,000 synthetic firms, 8 features; threshold 2 of 3",
            "timing": "CPU time of this process (time.process_time)",
        },
    }
