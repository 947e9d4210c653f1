"""Verdicts: the reps' judgement of leads (good, not a lead with a reason, missed), the
triage queue, BANT updates, the verdict history, and the per-run tallies that keep
accuracy against verdicts cheap (tallies.py). May import backtests, imports, leads,
access, the models, and the definitions app."""
