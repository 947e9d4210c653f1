"""Static files in production: hashed, compressed names after `collectstatic`, and
never a 500 without it.

WhiteNoise's manifest storage raises while rendering a page when the manifest lacks a
file (no `collectstatic` yet, or one run before `make assets`), so the page answers
500. Here a missing entry falls back to the plain name, which WhiteNoise serves
from the source folders (WHITENOISE_USE_FINDERS), and a warning is logged once per
file. The `leadworkshop.W001` deploy check says when collectstatic has not been run.
"""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

log = logging.getLogger(__name__)


class ForgivingManifestStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]  # whitenoise has no type hints
    _missing: set[str]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._missing = set()

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            if name not in self._missing:
                self._missing.add(name)
                log.warning(
                    "Static file %s is not in the collectstatic manifest; serving it "
                    "unhashed. Run `manage.py collectstatic`.",
                    name,
                )
            return name
