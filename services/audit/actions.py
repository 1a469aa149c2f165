"""Every audit action the console writes, by the name the Audit screen shows.

Names are spelled out whole (never built from parts), so a name seen on the screen or in an
export is found in the source by searching for it. A refused write is recorded under its own
`*.refused` name. Events written before these names were fixed keep the names they were
written with (the chain's hashes cover them): `promotion.rejectd` is the old spelling of
`promotion.rejected`.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # sign-in and accounts
    SIGNED_IN = "auth.signed_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_IN_THROTTLED = "auth.sign_in_throttled"  # written before failures were summarised
    SIGN_IN_FAILURES_SUMMARISED = "auth.sign_in_failures_summarised"
    USER_ADDED = "user.added"
    USER_ADD_REFUSED = "user.add.refused"
    USER_ROLES_SET = "user.roles_set"
    USER_SET_ROLES_REFUSED = "user.set_roles.refused"
    USER_DISABLED = "user.disabled"
    USER_DISABLE_REFUSED = "user.disable.refused"
    USER_EMAIL_SET = "user.email_set"
    USER_SET_EMAIL_REFUSED = "user.set_email.refused"
    # evidence and reports
    EVIDENCE_RECORDED = "evidence.recorded"
    EVIDENCE_PACK_EXPORTED = "evidence_pack.exported"
    EVIDENCE_PACK_EXPORT_REFUSED = "evidence_pack.export.refused"
    EVIDENCE_PACK_DOWNLOADED = "evidence_pack.downloaded"
    MODEL_CARD_EXPORTED = "model_card.exported"
    # reads and exports of personal data and of the trail (services.audit.reads)
    CASE_FILE_VIEWED = "case_file.viewed"
    CASE_FILE_EXPORTED = "case_file.exported"
    AUDIT_EXPORTED = "audit.exported"
    # promotions, exceptions and aliases
    PROMOTION_REQUESTED = "promotion.requested"
    PROMOTION_REQUEST_REFUSED = "promotion.request.refused"
    PROMOTION_APPROVED = "promotion.approved"
    PROMOTION_REJECTED = "promotion.rejected"
    PROMOTION_SIGN_OFF_REFUSED = "promotion.sign_off.refused"
    PROMOTION_WITHDRAWN = "promotion.withdrawn"
    PROMOTION_WITHDRAW_REFUSED = "promotion.withdraw.refused"
    PROMOTION_EXECUTE_REFUSED = "promotion.execute.refused"
    POLICY_EXCEPTION_GRANTED = "policy_exception.granted"
    POLICY_EXCEPTION_GRANT_REFUSED = "policy_exception.grant.refused"
    ALIAS_MOVED = "alias.moved"
    ALIAS_MOVE_FAILED = "alias.move_failed"
    ALIAS_ROLLBACK_REQUESTED = "alias.rollback_requested"
    ALIAS_ROLLBACK_REFUSED = "alias.rollback.refused"
    ALIAS_HISTORY_SEEDED = "alias.history_seeded"
    # the decision log
    INGEST_DECISIONS = "ingest.decisions"
    INGEST_OUTCOMES = "ingest.outcomes"
    INGEST_REFUSED = "ingest.refused"  # a service token without the ingest role, by the API
    # service tokens of serving systems (the ingest API)
    TOKEN_CREATED = "token.created"
    TOKEN_CREATE_REFUSED = "token.create.refused"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_REVOKE_REFUSED = "token.revoke.refused"
    DAY_COUNTS_REBUILT = "day_counts.rebuilt"
    PROFILES_REBUILT = "profiles.rebuilt"
    DECISION_OVERRIDDEN = "decision.overridden"
    DECISION_OVERRIDE_REFUSED = "decision.override.refused"
    # monitoring
    ALERT_OPENED = "alert.opened"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_ACKNOWLEDGE_REFUSED = "alert.acknowledge.refused"
    HEALTH_BACKFILLED = "health.backfilled"
    # findings: raised by validators, worked by model owners, closed by another validator
    FINDING_RAISED = "finding.raised"
    FINDING_RAISE_REFUSED = "finding.raise.refused"
    FINDING_UPDATED = "finding.updated"
    FINDING_UPDATE_REFUSED = "finding.update.refused"
    FINDING_REMEDIATION_STARTED = "finding.remediation_started"
    FINDING_READY_FOR_REVIEW = "finding.ready_for_review"
    FINDING_WORK_REFUSED = "finding.work.refused"
    FINDING_SENT_BACK = "finding.sent_back"
    FINDING_CLOSED = "finding.closed"
    FINDING_ACCEPTED = "finding.accepted"
    FINDING_REVIEW_REFUSED = "finding.review.refused"
    # periodic reviews: a validator freezes a model's state and records a conclusion
    REVIEW_RECORDED = "review.recorded"
    REVIEW_RECORD_REFUSED = "review.record.refused"
    # vendor models: registered without artifacts, with the documents received from the vendor
    VENDOR_MODEL_REGISTERED = "vendor_model.registered"
    VENDOR_MODEL_REGISTER_REFUSED = "vendor_model.register.refused"
    VENDOR_MODEL_SETTINGS_CHANGED = "vendor_model.settings_changed"
    VENDOR_MODEL_SETTINGS_REFUSED = "vendor_model.settings.refused"
    VENDOR_DOCUMENT_RECORDED = "vendor_document.recorded"
    VENDOR_DOCUMENT_RECORD_REFUSED = "vendor_document.record.refused"
    # notifications: a person's choice of what reaches them by e-mail (deliveries are not
    # audit events: services.notify records each attempt on the notification's own row)
    NOTIFICATION_PREFERENCES_SET = "notification.preferences_set"
