"""Versions: publishing a document or an accepted proposal as the next version,
rollback (old content published again), the version history and pages, and
exports (JSON, Markdown, print). Published versions never change. May import catalog,
workshops, notifications, core, the models and the rules."""
