"""Authoring: drafts of a definition and the builder that edits them (add, remove, move
criteria and groups, points, thresholds), the definition page, and import/export of a
draft as JSON or Markdown. A draft is a Proposal in the draft state; deliberation takes
it from there. May import versions, catalog, workshops, notifications, core, the models
and the rules."""
