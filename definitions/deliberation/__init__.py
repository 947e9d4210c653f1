"""Deliberation: proposals open for votes, votes, threaded comments, amendments,
the consensus policy and the outcome of a vote. May import authoring, versions (to
publish an accepted proposal), catalog, workshops, notifications, core, the models and
the rules."""
