"""Computation templates: reviewed code in this repository, each pinned by a digest, and their registry.

A template's digest is ``sha256:`` over the RFC 8785 JSON of its descriptor::

    {"kind": "tdex.sandbox.template", "version": 1,
     "name": ..., "template_version": ..., "params": [<parameter schema>], "output": <rule>,
     "code": {<module>: <sha256 of the module's source>, ...}}

``code`` covers the module that defines the template's function and the modules it declares as
dependencies (the noise mechanism, the runner that enforces its output rule), so any change to the
code that decides what leaves a node changes the digest, and a grant pinned to the old digest no
longer admits it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from sandbox._accountant import PrivacyCost
from sandbox._canonical import digest_of
from sandbox._dp import RandomSource
from sandbox._table import Condition, Table
from sandbox.errors import InvalidParameters, TemplateUnknown

__all__ = [
    "ComputeContext",
    "OutputRule",
    "Param",
    "ResourcePolicy",
    "Template",
    "TemplateRegistry",
]

ParamType = Literal["number", "integer", "string", "choice", "bool", "item", "items", "where", "vector"]


class OutputRule(StrEnum):
    """What a template may release; the runner enforces it.

    ``dp_aggregate``: statistics over groups of at least k records, each noised by the runner and
    charged to the grant's budget. ``secure_aggregate``: a vector of declared length handed only to
    a masking sink (secure aggregation), never returned in clear. ``ciphertext``: CKKS ciphertexts
    under the requester's public context, at most a declared number of values.
    """

    DP_AGGREGATE = "dp_aggregate"
    SECURE_AGGREGATE = "secure_aggregate"
    CIPHERTEXT = "ciphertext"


@dataclass(frozen=True)
class ResourcePolicy:
    """Per-resource release rules set by the provider: minimum group size k and a public size bound."""

    min_group_size: int = 10
    max_rows: int = 2**24

    def __post_init__(self) -> None:
        if self.min_group_size < 1 or self.max_rows < 1:
            raise InvalidParameters("policy", "min_group_size and max_rows must be positive")


@dataclass(frozen=True)
class Param:
    """One parameter of a template's schema."""

    name: str
    type: ParamType
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 64

    def to_dict(self) -> dict[str, Any]:
        """JSON form, part of the template digest."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices),
            "max_length": self.max_length,
        }

    def validate(self, value: Any) -> Any:
        """The value converted to its canonical Python form, or `InvalidParameters`."""
        t = self.type
        if t in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidParameters(self.name, f"must be a {t}")
            if t == "integer" and (not float(value).is_integer()):
                raise InvalidParameters(self.name, "must be an integer")
            if not math.isfinite(float(value)):
                raise InvalidParameters(self.name, "must be finite")
            if self.minimum is not None and value < self.minimum:
                raise InvalidParameters(self.name, f"must be >= {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise InvalidParameters(self.name, f"must be <= {self.maximum:g}")
            return int(value) if t == "integer" else float(value)
        if t == "bool":
            if not isinstance(value, bool):
                raise InvalidParameters(self.name, "must be true or false")
            return value
        if t in ("string", "item"):
            if not isinstance(value, str) or not value or len(value) > 256:
                raise InvalidParameters(self.name, "must be a non-empty string")
            return value
        if t == "choice":
            if value not in self.choices:
                raise InvalidParameters(self.name, f"must be one of {', '.join(self.choices)}")
            return value
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            raise InvalidParameters(self.name, "must be a list")
        if len(value) > self.max_length:
            raise InvalidParameters(self.name, f"at most {self.max_length} entries")
        if t == "items":
            if not all(isinstance(v, str) and v for v in value):
                raise InvalidParameters(self.name, "must be a list of item names")
            return tuple(value)
        if t == "where":
            return tuple(Condition.parse(v) for v in value)
        try:
            vec = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            raise InvalidParameters(self.name, "must be a list of numbers") from None
        if not all(math.isfinite(v) for v in vec):
            raise InvalidParameters(self.name, "must be finite numbers")
        return vec


@dataclass(frozen=True)
class ComputeContext:
    """Everything a template's function receives: the data, validated parameters, opaque inputs, the policy.

    There is no network handle, no file system path and no way to return anything but through the
    runner, which checks the output against the template's rule. ``rng`` is the node's CSPRNG, for
    templates that add their own noise (DP federated updates).
    """

    data: Table
    params: Mapping[str, Any]
    inputs: Mapping[str, bytes | tuple[bytes, ...]]
    policy: ResourcePolicy
    rng: RandomSource


@dataclass(frozen=True)
class Template:
    """A registered computation.

    Parameters
    ----------
    name, version : how people refer to it (``agg.sum``, ``1``).
    params : the parameter schema; unknown parameters are refused.
    output : the output rule the runner enforces.
    compute : the function run on the node.
    cost : privacy cost from the validated parameters alone, so it is charged before running.
    output_size : number of released values (vector length, ciphertext slots) from the parameters.
    finalize : post-processing of noised statistics (``dp_aggregate`` only), e.g. sum / count; it gets
        the noised values, the parameters and the measurement's public schema facts (bounds).
    dependencies : further modules whose source enters the digest.
    """

    name: str
    version: str
    params: tuple[Param, ...]
    output: OutputRule
    compute: Callable[[ComputeContext], Any]
    cost: Callable[[Mapping[str, Any]], PrivacyCost] = field(default=lambda _p: PrivacyCost(0.0))
    output_size: Callable[[Mapping[str, Any]], int] | None = None
    finalize: (
        Callable[[Mapping[str, float | None], Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] | None
    ) = None
    dependencies: tuple[str, ...] = ()
    description: str = ""

    @cached_property
    def descriptor(self) -> dict[str, Any]:
        """The canonical descriptor the digest is computed over."""
        modules = [self.compute.__module__, *self.dependencies]
        return {
            "kind": "tdex.sandbox.template",
            "version": 1,
            "name": self.name,
            "template_version": self.version,
            "params": [p.to_dict() for p in self.params],
            "output": str(self.output),
            "code": {m: _module_source_digest(m) for m in sorted(set(modules))},
        }

    @cached_property
    def digest(self) -> str:
        """``sha256:<hex>`` of the descriptor."""
        return digest_of(self.descriptor)

    def validate_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters checked against the schema, defaults filled in; unknown names refused."""
        if not isinstance(raw, Mapping):
            raise InvalidParameters("params", "must be an object")
        known = {p.name for p in self.params}
        for name in raw:
            if name not in known:
                raise InvalidParameters(str(name), f"not a parameter of {self.name}")
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in raw and raw[p.name] is not None:
                out[p.name] = p.validate(raw[p.name])
            elif p.required:
                raise InvalidParameters(p.name, "required")
            else:
                out[p.name] = p.default
        return out


def _module_source_digest(module_name: str) -> str:
    module = importlib.import_module(module_name)
    return hashlib.sha256(inspect.getsource(module).encode()).hexdigest()


class TemplateRegistry:
    """The templates a node will run, by digest. Anything not registered is refused."""

    def __init__(self, templates: Sequence[Template] = ()) -> None:
        self._by_digest: dict[str, Template] = {}
        for t in templates:
            self.register(t)

    def register(self, template: Template) -> str:
        """Add a template; returns its digest."""
        self._by_digest[template.digest] = template
        return template.digest

    def get(self, digest: str) -> Template:
        """The template with `digest`, or `TemplateUnknown`."""
        try:
            return self._by_digest[digest]
        except (KeyError, TypeError):
            raise TemplateUnknown(str(digest)) from None

    def digest_of(self, name: str, version: str | None = None) -> str:
        """Digest of the registered template called `name` (latest registered if no version)."""
        matches = [t for t in self._by_digest.values() if t.name == name and version in (None, t.version)]
        if not matches:
            raise TemplateUnknown(f"{name}@{version or '*'}")
        return matches[-1].digest

    def __contains__(self, digest: object) -> bool:
        return digest in self._by_digest

    def __iter__(self) -> Any:
        return iter(self._by_digest.values())

    def __len__(self) -> int:
        return len(self._by_digest)
