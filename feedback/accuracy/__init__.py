"""Accuracy: each version's and draft's results measured against outcomes and against
the reps' verdicts (confusion, precision, recall, F1, lift, by score band and by
criterion), the accuracy page, its print version and CSV downloads. May import
verdicts, backtests, imports, leads, access, the models, and the definitions app."""
