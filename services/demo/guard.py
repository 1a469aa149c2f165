"""The demo is built only where it destroys nothing: a workspace holding records that the
demo did not write (accounts, evidence, decisions, registered models) is somebody's real one.

A real workspace turned demo would offer demo personas with no sign-in, and a half-built demo
is started again by deleting its stores; so the check runs before either can happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.core.errors import InvalidInput
from services.store.models import Decision, Evidence, IngestBatch, User

# Who the demo writes as: every record it builds carries this name (see build.SEED_ACTOR).
SEED_ACTOR = "demo.seed"


@dataclass(frozen=True)
class ForeignRecords:
    """Counts of what a workspace holds that `govern demo` did not build."""

    accounts: int
    evidence: int
    decisions: int
    registered_models: int

    def __bool__(self) -> bool:
        return any((self.accounts, self.evidence, self.decisions, self.registered_models))

    def described(self) -> str:
        """E.g. '2 accounts and 1,500 decisions'."""
        parts = [f"{count:,} {noun if count != 1 else noun.removesuffix('s')}"
                 for count, noun in ((self.accounts, "accounts"),
                                     (self.evidence, "evidence records"),
                                     (self.decisions, "decisions"),
                                     (self.registered_models, "registered models"))
                 if count]
        return " and ".join((", ".join(parts[:-1]), parts[-1])) if len(parts) > 1 \
            else "".join(parts)


def foreign_records(*, session: Session, registered_models: int) -> ForeignRecords:
    """What the store holds that the demo did not write, with the registry's model count.

    The demo never creates accounts, so every account counts; evidence and decisions count
    unless the demo's seed actor wrote them (a half-built demo holds some of its own).
    """
    accounts = session.scalar(select(func.count()).select_from(User)) or 0
    evidence = session.scalar(select(func.count()).select_from(Evidence)
                              .where(Evidence.created_by != SEED_ACTOR)) or 0
    decisions = session.scalar(
        select(func.count()).select_from(Decision)
        .outerjoin(IngestBatch, IngestBatch.id == Decision.batch_id)
        .where(or_(IngestBatch.id.is_(None), IngestBatch.ingested_by != SEED_ACTOR))) or 0
    return ForeignRecords(accounts, evidence, decisions, registered_models)


def refuse_foreign_workspace(found: ForeignRecords, *, home: str) -> None:
    """Raise InvalidInput naming what was found when the workspace holds foreign records."""
    if not found:
        return
    raise InvalidInput(
        f"{home} already holds a workspace that is not the demo: {found.described()} that "
        "`govern demo` did not create. The demo is never built into a real workspace: it "
        "would offer demo personas with no sign-in.",
        hint="Point GOVERNANCE_HOME at another folder to build the demo there, or, only if "
             "this workspace really is disposable, remove it with `make clean-workspace` "
             "(the default var/ folder) and run `govern demo` again.",
    )
