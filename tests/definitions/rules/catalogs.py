"""A fixed catalog for example-based tests: the built-ins plus one custom field of
each type the built-ins lack outside the outcome category (boolean) and a custom
choice/text/date field, plus one custom activity kind."""

from __future__ import annotations

from definitions.rules import (
    BUILTIN_FIELDS,
    DEFAULT_ACTIVITY_KINDS,
    ActivityKindSpec,
    Catalog,
    Category,
    FieldSpec,
    FieldType,
)

CATALOG = Catalog.build(
    (
        *BUILTIN_FIELDS,
        FieldSpec(
            "newsletter", "Newsletter", FieldType.BOOLEAN, Category.BEHAVIOURAL, builtin=False
        ),
        FieldSpec("occupation", "Occupation", FieldType.TEXT, Category.DEMOGRAPHIC, builtin=False),
        FieldSpec(
            "plan",
            "Plan",
            FieldType.CHOICE,
            Category.FIRMOGRAPHIC,
            choices=("free", "pro"),
            builtin=False,
        ),
        FieldSpec("last_event", "Last event", FieldType.DATE, Category.BEHAVIOURAL, builtin=False),
    ),
    (*DEFAULT_ACTIVITY_KINDS, ActivityKindSpec("booth_visit", "Booth visit")),
)
