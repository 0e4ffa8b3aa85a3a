"""The department node (前置机): a department's datasets at rest, and the only place computations on them run.

A node holds its department's datasets encrypted at rest and never returns a row. It runs a job
only when the requester's signature verifies against its member directory and the grant, read by
the node itself from chain through an injected `GrantChecker`, allows that requester, resource and
template now with uses and budget left. After a job it persists the privacy budget, records the
use on chain, signs a receipt, and releases the result sealed to the requester (or as ciphertexts
under the requester's HE key). Federated training runs as a session of secure-aggregation messages.

The HTTP layer is Starlette (`create_app`); the chain is reached through `GrantChecker` (the
`tdex` layer implements it over `ledger`): this package never imports `ledger`, FastAPI or
SQLAlchemy.
"""

from __future__ import annotations

from sandbox.node import errors
from sandbox.node._app import create_app
from sandbox.node._client import (
    ASGITransport,
    HttpFederatedCoordinator,
    HttpNodeHandle,
    JobResult,
    NodeClient,
    check_receipts,
    open_output,
)
from sandbox.node._datasets import DatasetRecord, DatasetStore, ingest
from sandbox.node._grants import GrantChecker, GrantView, UseRecord, check_grant, micro_epsilon
from sandbox.node._ingest import (
    CatalogueBinding,
    DatasetPolicy,
    ItemPolicy,
    entry_binding,
    entry_for_schema,
    policy_for_schema,
    read_csv,
    read_dataset,
    read_parquet,
    schema_for,
    write_source,
)
from sandbox.node._jobs import JOB_KIND, Directory, FederatedSpec, JobSpec, SignedJob, job_payload
from sandbox.node._models import model_from_dict, model_to_dict, open_model, seal_model
from sandbox.node._problems import error_from_problem, problem_body, status_of
from sandbox.node._receipts import RECEIPT_KIND, receipt_payload, verify_receipt
from sandbox.node._service import JobOutcome, NodeService, ReceiptSink
from sandbox.node._sessions import SessionManager

__all__ = [
    "JOB_KIND",
    "RECEIPT_KIND",
    "ASGITransport",
    "CatalogueBinding",
    "DatasetPolicy",
    "DatasetRecord",
    "DatasetStore",
    "Directory",
    "FederatedSpec",
    "GrantChecker",
    "GrantView",
    "HttpFederatedCoordinator",
    "HttpNodeHandle",
    "ItemPolicy",
    "JobOutcome",
    "JobResult",
    "JobSpec",
    "NodeClient",
    "NodeService",
    "ReceiptSink",
    "SessionManager",
    "SignedJob",
    "UseRecord",
    "check_grant",
    "check_receipts",
    "create_app",
    "entry_binding",
    "entry_for_schema",
    "error_from_problem",
    "errors",
    "ingest",
    "job_payload",
    "micro_epsilon",
    "model_from_dict",
    "model_to_dict",
    "open_model",
    "open_output",
    "policy_for_schema",
    "problem_body",
    "read_csv",
    "read_dataset",
    "read_parquet",
    "receipt_payload",
    "schema_for",
    "seal_model",
    "status_of",
    "verify_receipt",
    "write_source",
]
