"""Suggestions: concrete changes to a definition, each with its evidence, shown on the
accuracy page (panels.py) and turned into a proposal draft (views.py). May import
accuracy, verdicts, backtests, imports, leads, access, the models, and the
definitions app."""
