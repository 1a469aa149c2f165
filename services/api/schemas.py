"""What the ingest API takes and answers, as its OpenAPI document shows them.

Requests are documented by these models but not parsed through them: a row is judged by the
same validation as a file's row (services.decisions.validate), so that one bad row is
quarantined with its reason while the rest of the batch is stored, exactly as from a file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DecisionIn(BaseModel):
    """One automated decision as the serving system made it."""

    decision_id: str = Field(max_length=128, description="Unique per decision; sending the "
                             "same decision again is skipped, a changed one is quarantined.")
    model_name: str = Field(description="Exactly as registered in MLflow.")
    model_version: str = Field(description="The registered version that scored, e.g. \"3\".")
    decided_at: str | float = Field(description="ISO 8601 (UTC unless it says otherwise) or "
                                    "epoch seconds or milliseconds.")
    subject_ref: str = Field(max_length=128, description="Your reference for the person or "
                             "case decided about (not their name).")
    features: dict[str, Any] = Field(description="The inputs as scored, by the version's "
                                     "signature names; null for a missing input.")
    score: float | None = Field(ge=0, le=1, description="The model's probability; null only "
                                "for an escalated or error outcome.")
    threshold: float | None = None
    outcome: Literal["approved", "declined", "escalated", "error"]
    escalation_reason: str | None = Field(default=None, description="low_confidence, "
                                          "missing_input or error when escalated.")
    request_id: str | None = None
    reason_codes: list[str] | None = None
    shadow: bool = False


class OutcomeIn(BaseModel):
    """Ground truth for a stored decision, when it is known."""

    decision_id: str
    label: bool | Literal[0, 1] = Field(description="1 (true): the positive label; 0 (false): "
                                        "the other.")
    observed_at: str | float | None = Field(default=None, description="When it was known; "
                                            "now when absent.")


class RowAnswer(BaseModel):
    row: int = Field(description="The row's position in the request, from 1.")
    decision_id: str | None
    status: Literal["stored", "skipped", "quarantined"]
    reason: str | None = Field(description="Why it was quarantined.")
    note: str | None = Field(default=None, description="Said of a stored row a person should "
                             "look at: a failed-closed decision stored with inputs that do not "
                             "fit the signature, or a verdict with an input missing.")


class BatchAnswer(BaseModel):
    """The answer row by row: 200 when anything was stored or skipped, 422 (with this same
    body) when every row was quarantined."""

    batch_id: int | None
    stored: int
    skipped: int = Field(description="Already stored with identical content.")
    quarantined: int
    rows: list[RowAnswer]
    warnings: list[str] = Field(default_factory=list, description="About the batch as a whole, "
                                "e.g. every score exactly 0 or 1 (a class logged instead of a "
                                "probability).")


class Problem(BaseModel):
    """A refused request: nothing of it was stored."""

    detail: str
    hint: str = ""


def body_of(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body: one record, or a list of them as one batch."""
    one = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [one, {"type": "array", "items": one, "title": f"batch of {model.__name__}"}],
    }}}}}
