"""Backtests: a version or a draft applied to every historical lead of a workshop, in
chunks any number of workers share, compiled to one SQL statement per chunk (sql.py),
with progress, cancel, retry and results that explain themselves. Finished runs are
announced by signals (signals.py) to the packages above. May import imports, leads,
access, the models, and the definitions app."""
