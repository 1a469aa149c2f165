"""What a notification is about, how it travels, and where its delivery stands."""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    ALERT_OPENED = "alert_opened"  # to the model's owner and the validators
    PROMOTION_WAITING = "promotion_waiting"  # to the validators who may sign it
    FINDING_ASSIGNED = "finding_assigned"  # to the finding's owner
    FINDING_PAST_DUE = "finding_past_due"  # to the finding's owner, once
    REVIEW_DUE = "review_due"  # to the model's owner, once per due date
    CHAIN_BROKEN = "chain_broken"  # to admins and auditors


# What a person reads beside each choice on the Notifications page and in the README.
KIND_LABELS: dict[NotificationKind, str] = {
    NotificationKind.ALERT_OPENED: "An alert opened on a model",
    NotificationKind.PROMOTION_WAITING: "A promotion request waiting for my sign-off",
    NotificationKind.FINDING_ASSIGNED: "A finding assigned to me",
    NotificationKind.FINDING_PAST_DUE: "A finding of mine past its due date",
    NotificationKind.REVIEW_DUE: "A periodic review of my model falling due",
    NotificationKind.CHAIN_BROKEN: "The audit trail not verifying",
}


# What an admin's delivery log and a shared desk read: the same kinds, in the third person
# (KIND_LABELS speak for the person choosing what reaches them).
LOG_LABELS: dict[NotificationKind, str] = {
    NotificationKind.ALERT_OPENED: "Alert opened on a model",
    NotificationKind.PROMOTION_WAITING: "Promotion request waiting for sign-off",
    NotificationKind.FINDING_ASSIGNED: "Finding assigned to its owner",
    NotificationKind.FINDING_PAST_DUE: "Finding past its due date",
    NotificationKind.REVIEW_DUE: "Periodic review falling due",
    NotificationKind.CHAIN_BROKEN: "Audit trail not verifying",
}


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS; last_error says why
    NOT_SENT = "not sent"  # nowhere to send it (no SMTP server, no address): never tried
