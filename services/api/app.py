"""The ingest API: serving systems in any language post decisions and outcomes with a service
token, and each row is answered stored, skipped or quarantined (with its reason).

Rows go through the same validation, storage and audit events as `govern ingest`
(services.decisions.batches). Refusals store nothing: a missing, wrong or revoked token is
401, a token without the ingest role 403, a body over the limit 413, a body that is not JSON
400, and JSON that is not a record or a list of them 422. An element of a batch that is not an
object (7, "x", null, a list) is quarantined as a row; a batch whose every row was quarantined
is answered 422 with the same row-by-row body (the rows are kept in its quarantine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from services.api.schemas import BatchAnswer, DecisionIn, OutcomeIn, Problem, RowAnswer, body_of
from services.audit.actions import AuditAction
from services.audit.chain import refusals_recorded
from services.core.errors import (
    GovernanceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SourceUnavailable,
)
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.decisions.ingest import record_decisions, record_outcomes, schema_reader
from services.decisions.ingest_report import IngestReport
from services.governance.tokens import authenticate
from services.registry.adapter import Registry


class Refused(Exception):
    """A request answered with an HTTP error and nothing stored."""

    def __init__(self, status: int, detail: str, hint: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail, self.hint = status, detail, hint


_STATUS = {PermissionDenied: 403, NotFound: 404, InvalidInput: 422, SourceUnavailable: 503}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": what} for code, what in (
        (400, "The body is not JSON."), (401, "No token, or a wrong or revoked one."),
        (403, "The token lacks the ingest role."), (413, "The body is over the size limit."),
        (422, "The JSON is not a record or a list of records (detail, hint), or every row of "
              "the batch was quarantined (the row-by-row answer, as for 200)."),
        (503, "The store or the registry cannot be reached; nothing was stored."))}


def create_app(*, engine: Engine, registry: Registry, max_body_bytes: int) -> FastAPI:
    """The API over one store and one registry (the versions' schemas held between requests)."""
    app = FastAPI(title="Model Governance Console: ingest API", version="1",
                  description="Decisions and outcomes from serving systems, judged as files "
                              "are. Authenticate with `Authorization: Bearer <service token>` "
                              "(`govern tokens create NAME --role ingest`).")
    schema_of = schema_reader(registry)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail, "hint": exc.hint}, exc.status,
                            headers=headers)

    @app.get("/health", summary="Whether the API and its store answer")
    def health() -> dict[str, str]:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error: the store is not usable
            raise Refused(503, f"The store cannot be reached: {type(exc).__name__}.") from exc
        return {"status": "ok"}

    @app.post("/v1/decisions", response_model=BatchAnswer, responses=_REFUSALS,
              summary="Record one decision or a batch of them",
              openapi_extra=body_of(DecisionIn))
    async def post_decisions(request: Request) -> BatchAnswer | JSONResponse:
        actor = await _authorised(request, engine)
        rows = await _records(request, max_body_bytes, "decision")
        return await _answer(engine, actor, lambda: record_decisions(
            engine=engine, registry=registry, actor=actor, decisions=rows,
            source=f"api:{actor.id}", schema_of=schema_of, per_row=True))

    @app.post("/v1/outcomes", response_model=BatchAnswer, responses=_REFUSALS,
              summary="Record the outcome (ground truth) of stored decisions",
              openapi_extra=body_of(OutcomeIn))
    async def post_outcomes(request: Request) -> BatchAnswer | JSONResponse:
        actor = await _authorised(request, engine)
        rows = await _records(request, max_body_bytes, "outcome")
        return await _answer(engine, actor, lambda: record_outcomes(
            engine=engine, actor=actor, outcomes=rows, source=f"api:{actor.id}",
            per_row=True))

    return app


async def _authorised(request: Request, engine: Engine) -> Principal:
    """The token's principal, or 401 (no token, a wrong or a revoked one: the same answer)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    actor = await run_in_threadpool(lambda: authenticate(engine=engine, secret=secret.strip())) \
        if scheme.lower() == "bearer" and secret.strip() else None
    if actor is None:
        raise Refused(401, "A valid service token is needed.",
                      "Send `Authorization: Bearer <token>`; an admin makes one with "
                      "`govern tokens create NAME --role ingest`.")
    return actor


async def _records(request: Request, limit: int, kind: str) -> list[Any]:
    """The body's records, read up to `limit` bytes; a single record is a batch of one."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for part in request.stream():  # a chunked body has no length to check first
        body += part
        if len(body) > limit:
            raise _too_large(limit)
    try:
        value = orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise Refused(400, f"The body is not valid JSON: {exc}.",
                      f"Send one {kind} as a JSON object, or a batch as a JSON array of them.") \
            from exc
    records = [value] if isinstance(value, dict) else value
    if not isinstance(records, list) or not records:
        found = "an empty list" if records == [] else f"a JSON {type(value).__name__}"
        raise Refused(422, f"The body must be one {kind} (a JSON object) or a non-empty list "
                           f"of them, not {found}.", "See /docs for the fields.")
    return records


def _too_large(limit: int) -> Refused:
    return Refused(413, f"The body is over the limit of {limit:,} bytes.",
                   "Send smaller batches, or raise GOVERNANCE_API_MAX_BODY_MB.")


async def _answer(engine: Engine, actor: Principal,
                  store: Callable[[], IngestReport]) -> BatchAnswer | JSONResponse:
    def guarded() -> IngestReport:
        # A token that may not ingest leaves one refusal event naming it, and nothing else.
        with refusals_recorded(engine, actor, AuditAction.INGEST_REFUSED, "ingest_batch", "api"):
            require(actor, Action.INGEST)
        return store()

    try:
        report = await run_in_threadpool(guarded)
    except GovernanceError as exc:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)
        raise Refused(status, exc.message, exc.hint) from exc
    answer = BatchAnswer(batch_id=report.batch_id, stored=report.accepted,
                         skipped=report.duplicates, quarantined=report.quarantined,
                         rows=[RowAnswer(row=r.row, decision_id=r.decision_id, status=r.status,
                                         reason=r.reason, note=r.note) for r in report.rows],
                         warnings=list(report.warnings))
    if report.accepted == 0 and report.duplicates == 0 and report.quarantined > 0:
        # Nothing of the batch is in the log: a client checking only the status must see it.
        return JSONResponse(answer.model_dump(mode="json"), 422)
    return answer

