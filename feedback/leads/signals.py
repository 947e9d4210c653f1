"""Sent when leads arrive (the API, an import, the lead generator), so that what a
higher layer does with new leads (feedback.shadows classifies them for the running
shadow definitions) needs no import upwards. Receivers are connected in
feedback/apps.py."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with workshop_id and leads: a Lead queryset naming the arrived leads (a
# subquery, never a list in Python), inside the transaction that wrote them.
leads_arrived = Signal()
