"""Reads of published versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from definitions.models import (
    Version,
    Workshop,
)

if TYPE_CHECKING:
    pass


def current_version(workshop: Workshop) -> Version | None:
    return Version.objects.filter(workshop=workshop).order_by("-number").first()


def versions_of(workshop: Workshop) -> QuerySet[Version]:
    return (
        Version.objects.filter(workshop=workshop).select_related("published_by").order_by("-number")
    )
