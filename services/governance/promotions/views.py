"""Promotion requests as the screens and the evidence pack read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.evidence.gates import GateResult
from services.store.models import PolicyException, PromotionRequest, SignOff


@dataclass(frozen=True)
class SignOffRecord:
    validator: str
    verdict: str  # approve | reject
    justification: str
    signed_at: datetime


@dataclass(frozen=True)
class ExceptionRecord:
    id: int
    gates: tuple[str, ...]
    justification: str
    expires_on: date
    granted_by: str
    granted_at: datetime

    def covers(self, gate: str, today: date) -> bool:
        return gate in self.gates and today <= self.expires_on


@dataclass(frozen=True)
class PromotionView:
    id: int
    kind: str  # promotion | rollback
    model_name: str
    model_version: str
    alias: str
    requested_by: str
    requested_at: datetime
    justification: str
    status: str  # open | rejected | withdrawn | approved | approved_not_executed | executed
    gate_results: tuple[GateResult, ...]  # frozen when the request was made
    policy_sha256: str
    previous_version: str | None
    executed_at: datetime | None
    executed_by: str | None
    execution_error: str | None
    sign_offs: tuple[SignOffRecord, ...]
    exceptions: tuple[ExceptionRecord, ...]

    @property
    def failing_gates(self) -> tuple[str, ...]:
        return tuple(g.gate for g in self.gate_results if not g.passed)

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(s.validator for s in self.sign_offs if s.verdict == "approve")

    def unexcused_gates(self, today: date, exception_approvers: int = 1) -> tuple[str, ...]:
        """Failing gates that fewer than exception_approvers distinct admins excuse with an
        unexpired exception (the tier's policy): these block approval."""
        return tuple(g for g in self.failing_gates
                     if len(self.excused_by(g, today)) < exception_approvers)

    def excused_by(self, gate: str, today: date) -> set[str]:
        """The admins whose unexpired exceptions cover the gate."""
        return {e.granted_by for e in self.exceptions if e.covers(gate, today)}


def promotion_view(*, session: Session, request_id: int) -> PromotionView:
    request = session.get(PromotionRequest, request_id)
    if request is None:
        raise NotFound(f"There is no promotion request #{request_id}.")
    return _views(session, [request])[0]


def list_promotions(*, session: Session, model_name: str | None = None,
                    statuses: tuple[str, ...] = (), limit: int = 100) -> list[PromotionView]:
    """Requests, newest first; open ones only when statuses says so."""
    query = select(PromotionRequest).order_by(PromotionRequest.id.desc()).limit(limit)
    if model_name:
        query = query.where(PromotionRequest.model_name == model_name)
    if statuses:
        query = query.where(PromotionRequest.status.in_(statuses))
    return _views(session, list(session.scalars(query)))


def _views(session: Session, requests: list[PromotionRequest]) -> list[PromotionView]:
    ids = [r.id for r in requests]
    sign_offs: dict[int, list[SignOffRecord]] = {}
    for s in session.scalars(select(SignOff).where(SignOff.request_id.in_(ids))
                             .order_by(SignOff.signed_at, SignOff.id)):
        sign_offs.setdefault(s.request_id, []).append(
            SignOffRecord(s.validator, s.verdict, s.justification, s.signed_at))
    exceptions: dict[int, list[ExceptionRecord]] = {}
    for e in session.scalars(select(PolicyException).where(PolicyException.request_id.in_(ids))
                             .order_by(PolicyException.id)):
        exceptions.setdefault(e.request_id, []).append(ExceptionRecord(
            e.id, tuple(e.gates), e.justification, e.expires_on, e.granted_by, e.granted_at))
    return [PromotionView(
        r.id, r.kind, r.model_name, r.model_version, r.alias, r.requested_by, r.requested_at,
        r.justification, r.status, _frozen_gates(r.gate_results), r.policy_sha256,
        r.previous_version, r.executed_at, r.executed_by, r.execution_error,
        tuple(sign_offs.get(r.id, ())),
        tuple(exceptions.get(r.id, ()))) for r in requests]


def _frozen_gates(stored: list[Any]) -> tuple[GateResult, ...]:
    """Gate results as frozen on a request (JSON written from GateResult, every version)."""
    return tuple(GateResult.model_validate(result) for result in stored)
