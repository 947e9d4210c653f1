"""Notifications: the in-app inbox and its e-mails (queued after the transaction
commits, swept up later when the broker was down). May import core, the models and the
rules; every capability above may notify."""
