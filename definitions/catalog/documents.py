"""A definition document read against a workshop's catalog: the canonical JSON of a
valid one, or every error with its JSON path; and uploaded JSON text turned into a
document within the document limits of definitions.rules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.models import (
    Workshop,
)

if TYPE_CHECKING:
    pass


class DefinitionInvalid(Exception):
    """A document failed validation; `errors` are the rules' errors with their paths."""

    def __init__(self, errors: tuple[rules.ValidationError, ...]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


class DocumentRefused(DefinitionInvalid):
    """The JSON text broke a document limit (size, nesting, a number's length or range)
    before it could be read as a definition; `errors` name the JSON path of each."""


# The largest JSON document accepted from an upload or the command line. A 200-criterion
# definition with long texts is well under 300 kB; anything bigger is not a definition.
MAX_DOCUMENT_BYTES = 1_000_000


def validated_document(workshop: Workshop, document: object) -> dict[str, object]:
    """The canonical JSON of a valid definition, or DefinitionInvalid."""
    result = rules.parse(document, catalog_for(workshop, translated=False))
    if result.definition is None:
        raise DefinitionInvalid(result.errors)
    return rules.to_json(result.definition)  # type: ignore[return-value]


def load_json_document(raw: bytes | str) -> object:
    """Decode uploaded JSON, turning every way it can be broken into a clear error:
    ValidationError for bytes that are not JSON text, DocumentRefused for JSON beyond
    the document limits of definitions.rules."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("The file is %(size)s bytes; a definition may be at most %(max)s bytes.")
            % {"size": size, "max": MAX_DOCUMENT_BYTES},
            code="too_large",
        )
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
    try:
        loaded = rules.load(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("The file is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": exc.msg, "line": exc.lineno, "column": exc.colno},
            code="json",
        ) from None
    if loaded.errors:
        raise DocumentRefused(loaded.errors)
    return loaded.data
