"""Templates: digests pin the code, only registered and granted templates run, output rules hold."""

from __future__ import annotations

import importlib
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sandbox as sb
from sandbox.errors import (
    InvalidParameters,
    NetworkForbidden,
    OutputRuleViolated,
    TemplateNotAllowed,
    TemplateUnknown,
)

EPS = sb.Param("epsilon", "number", minimum=0.01, maximum=10)


def _cost(p: Any) -> sb.PrivacyCost:
    return sb.PrivacyCost(p["epsilon"])


def _rows(ctx: sb.ComputeContext) -> Any:
    return ctx.data.column("income")


def _smuggle(ctx: sb.ComputeContext) -> sb.Measurement:
    return sb.Measurement(
        (sb.Statistic("count", float(len(ctx.data)), len(ctx.data), 1.0, ctx.params["epsilon"], 1e6),)
    )


def _greedy(ctx: sb.ComputeContext) -> sb.Measurement:
    s = sb.Statistic("count", 1.0, len(ctx.data), 1.0, ctx.params["epsilon"], 1e6)
    return sb.Measurement((s, s))  # two statistics on one partition, each at the full ε


def _socket(ctx: sb.ComputeContext) -> Any:
    socket.create_connection(("127.0.0.1", 9))


def _process(ctx: sb.ComputeContext) -> Any:
    subprocess.run(["true"], check=False)


def _vector(ctx: sb.ComputeContext) -> Any:
    return np.zeros(5)


def _template(name: str, fn: Any, rule: sb.OutputRule = sb.OutputRule.DP_AGGREGATE, **kw: Any) -> sb.Template:
    return sb.Template(name, "1", (EPS,), rule, fn, _cost, **kw)


ROGUES = {
    "rows": _template("rogue.rows", _rows),
    "smuggle": _template("rogue.smuggle", _smuggle, finalize=lambda noisy, p, pub: {"rows": [1.0, 2.0]}),
    "greedy": _template("rogue.greedy", _greedy),
    "socket": _template("rogue.socket", _socket),
    "process": _template("rogue.process", _process),
    "vector": _template("rogue.vector", _vector, sb.OutputRule.SECURE_AGGREGATE, output_size=lambda p: 4),
}


def _run(name: str, people: sb.Table, **kw: Any) -> sb.RunResult:
    registry = sb.TemplateRegistry(list(ROGUES.values()))
    t = ROGUES[name]
    return sb.Runner(registry, rng=sb.SeededRandomSource(1)).run(
        sb.RunRequest("g", t.digest, {"epsilon": 0.5}, frozenset({t.digest})),
        people,
        sb.ResourcePolicy(5),
        sb.BudgetAccountant("g", 10),
        **kw,
    )


def test_digest_is_stable_and_covers_descriptor(registry: sb.TemplateRegistry) -> None:
    """A template's digest is sha256 over a descriptor naming its schema, rule and code hashes."""
    digest = registry.digest_of("agg.sum")
    template = registry.get(digest)
    assert digest == sb.default_registry().digest_of("agg.sum")
    d = template.descriptor
    assert d["kind"] == "tdex.sandbox.template" and d["name"] == "agg.sum" and d["output"] == "dp_aggregate"
    assert {"sandbox._aggregates", "sandbox._runner", "sandbox._dp"} <= set(d["code"])
    assert len({t.digest for t in registry}) == len(registry)


def test_digest_changes_when_the_code_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing a template's module gives it a new digest, so old grants no longer admit it."""
    source = "def compute(ctx):\n    return None\n"
    (tmp_path / "tdex_probe_template.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("tdex_probe_template")
    before = _template("probe", module.compute).digest
    (tmp_path / "tdex_probe_template.py").write_text(source + "# reviewed change\n")
    module = importlib.reload(module)
    after = _template("probe", module.compute).digest
    sys.modules.pop("tdex_probe_template", None)
    assert before != after


def test_unregistered_template_is_refused(runner: sb.Runner, people: sb.Table) -> None:
    """A digest that is not in the registry never runs."""
    digest = "sha256:" + "0" * 64
    with pytest.raises(TemplateUnknown) as exc:
        runner.run(
            sb.RunRequest("g", digest, {}, frozenset({digest})),
            people,
            sb.ResourcePolicy(),
            sb.BudgetAccountant("g", 1),
        )
    assert exc.value.code == "sandbox.template_unknown"


def test_template_not_in_grant_is_refused(
    runner: sb.Runner, registry: sb.TemplateRegistry, people: sb.Table
) -> None:
    """A registered template the grant does not pin is refused."""
    digest = registry.digest_of("agg.count")
    with pytest.raises(TemplateNotAllowed) as exc:
        runner.run(
            sb.RunRequest("g", digest, {"epsilon": 0.1}, frozenset({registry.digest_of("agg.sum")})),
            people,
            sb.ResourcePolicy(),
            sb.BudgetAccountant("g", 1),
        )
    assert exc.value.code == "sandbox.template_not_allowed"


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"epsilon": 0.1, "select": "*"}, "select"),
        ({}, "epsilon"),
        ({"epsilon": "0.1"}, "epsilon"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": 1e9}, "epsilon"),
        ({"epsilon": True}, "epsilon"),
        ({"epsilon": 0.1, "where": "district = 'east'"}, "where"),
        ({"epsilon": 0.1, "where": [{"item": "district"}]}, "where"),
    ],
)
def test_parameters_are_validated_against_the_schema(
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    allowed: frozenset[str],
    people: sb.Table,
    params: Any,
    bad: str,
) -> None:
    """Unknown, missing, mistyped and out-of-range parameters are refused and nothing is charged."""
    acc = sb.BudgetAccountant("g", 1)
    with pytest.raises(InvalidParameters) as exc:
        runner.run(
            sb.RunRequest("g", registry.digest_of("agg.count"), params, allowed),
            people,
            sb.ResourcePolicy(),
            acc,
        )
    assert exc.value.code == "sandbox.invalid_parameters"
    assert exc.value.param == bad
    assert acc.epsilon_spent == 0


@pytest.mark.parametrize("name", ["rows", "smuggle", "greedy"])
def test_output_rule_stops_rows_and_overspending(people: sb.Table, name: str) -> None:
    """A template returning a column, smuggling a list from finalize, or spending ε twice releases nothing."""
    with pytest.raises(OutputRuleViolated) as exc:
        _run(name, people)
    assert exc.value.code == "sandbox.output_rule_violated"


@pytest.mark.parametrize("name", ["socket", "process"])
def test_computations_cannot_use_network_or_processes(people: sb.Table, name: str) -> None:
    """Opening a socket or starting a process inside a template raises NetworkForbidden."""
    with pytest.raises(NetworkForbidden) as exc:
        _run(name, people)
    assert exc.value.code == "sandbox.network_forbidden"


def test_network_is_allowed_again_outside_templates() -> None:
    """The guard is only active while a template runs."""
    s = socket.socket()
    s.close()


def test_secure_vectors_need_a_sink_and_their_declared_length(people: sb.Table) -> None:
    """A secure-aggregate vector never leaves in clear and must have the declared length."""
    with pytest.raises(OutputRuleViolated):
        _run("vector", people)
    with pytest.raises(OutputRuleViolated):
        _run("vector", people, sink=lambda v: v)


def test_registry_lookup_by_name() -> None:
    """Templates are found by name and version, and unknown names are TemplateUnknown."""
    registry = sb.default_registry()
    assert registry.get(registry.digest_of("agg.mean", "1")).name == "agg.mean"
    with pytest.raises(TemplateUnknown):
        registry.digest_of("agg.rows")
