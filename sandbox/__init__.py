"""The sandbox's computation core: registered templates, private aggregates, federated training, CKKS.

Data stays on the department node; only registered templates run on it, and only what their
output rule allows leaves: noised aggregates over groups of at least k records (charged to the
grant's privacy budget), sums of masked vectors (secure aggregation), or ciphertexts under the
requester's key. The node HTTP service, dataset ingestion and on-chain grant checks build on this
package; it never imports `ledger`, FastAPI or SQLAlchemy.
"""

from __future__ import annotations

from sandbox import errors
from sandbox._accountant import BudgetAccountant, Charge, PrivacyCost
from sandbox._aggregates import AGGREGATE_TEMPLATES
from sandbox._blobstore import BlobStore, FilesystemBlobStore, MemoryBlobStore, blob_digest
from sandbox._dp import (
    RandomSource,
    SeededRandomSource,
    SystemRandomSource,
    gaussian_noise,
    snapping_laplace,
    zcdp_to_approx_dp,
)
from sandbox._federated import (
    FEDERATED_TEMPLATES,
    FederatedCoordinator,
    FederatedModel,
    FederatedNode,
    NodeHandle,
    RoundMetrics,
    TrainingPlan,
)
from sandbox._fixedpoint import FixedPoint
from sandbox._he import (
    HE_TEMPLATES,
    CkksParams,
    EncryptedModel,
    add_ciphertexts,
    create_context,
    decrypt_scores,
    decrypt_values,
    encrypt_model,
    encrypt_values,
    load_public_context,
    public_context_bytes,
    score_encrypted,
    store_public_context,
)
from sandbox._messages import (
    MaskedInput,
    PlainInput,
    RoundConfig,
    ShareKeys,
    SharesDelivery,
    UnmaskRequest,
    UnmaskResponse,
)
from sandbox._runner import Ciphertexts, Measurement, Runner, RunRequest, RunResult, Statistic
from sandbox._secagg import Agree, SecAggClient, SecAggCoordinator, prg_mask, x25519_agree
from sandbox._shamir import PRIME, Share, reconstruct, reconstruct_bytes, split, split_bytes
from sandbox._synthetic import (
    CREDIT_FEATURES,
    DISTRICTS,
    INDUSTRIES,
    credit_table,
    enterprise_schema,
    enterprises,
    social_insurance,
    tax_payments,
)
from sandbox._table import Condition, Item, Schema, Table
from sandbox._templates import ComputeContext, OutputRule, Param, ResourcePolicy, Template, TemplateRegistry
from sandbox._uscc import is_valid_uscc, make_uscc, uscc_check_char

__all__ = [
    "AGGREGATE_TEMPLATES",
    "CREDIT_FEATURES",
    "DISTRICTS",
    "FEDERATED_TEMPLATES",
    "HE_TEMPLATES",
    "INDUSTRIES",
    "PRIME",
    "Agree",
    "BlobStore",
    "BudgetAccountant",
    "Charge",
    "Ciphertexts",
    "CkksParams",
    "ComputeContext",
    "Condition",
    "EncryptedModel",
    "FederatedCoordinator",
    "FederatedModel",
    "FederatedNode",
    "FilesystemBlobStore",
    "FixedPoint",
    "Item",
    "MaskedInput",
    "Measurement",
    "MemoryBlobStore",
    "NodeHandle",
    "OutputRule",
    "Param",
    "PlainInput",
    "PrivacyCost",
    "RandomSource",
    "ResourcePolicy",
    "RoundConfig",
    "RoundMetrics",
    "RunRequest",
    "RunResult",
    "Runner",
    "Schema",
    "SecAggClient",
    "SecAggCoordinator",
    "SeededRandomSource",
    "Share",
    "ShareKeys",
    "SharesDelivery",
    "Statistic",
    "SystemRandomSource",
    "Table",
    "Template",
    "TemplateRegistry",
    "TrainingPlan",
    "UnmaskRequest",
    "UnmaskResponse",
    "add_ciphertexts",
    "blob_digest",
    "create_context",
    "credit_table",
    "decrypt_scores",
    "decrypt_values",
    "default_registry",
    "encrypt_model",
    "encrypt_values",
    "enterprise_schema",
    "enterprises",
    "errors",
    "gaussian_noise",
    "is_valid_uscc",
    "load_public_context",
    "make_uscc",
    "prg_mask",
    "public_context_bytes",
    "reconstruct",
    "reconstruct_bytes",
    "score_encrypted",
    "snapping_laplace",
    "social_insurance",
    "split",
    "split_bytes",
    "store_public_context",
    "tax_payments",
    "uscc_check_char",
    "x25519_agree",
    "zcdp_to_approx_dp",
]


def default_registry() -> TemplateRegistry:
    """A registry of every built-in template: aggregates, federated training and CKKS computations."""
    return TemplateRegistry((*AGGREGATE_TEMPLATES, *FEDERATED_TEMPLATES, *HE_TEMPLATES))
