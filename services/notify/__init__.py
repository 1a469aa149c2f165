"""Notifications: e-mail and signed webhooks, written in the act's transaction and delivered
after it commits (an outbox), so a notification exists exactly when its act did, and a failed
delivery never undoes or blocks the act."""
