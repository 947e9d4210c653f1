"""Leads: the historical leads and their activities, the lead list (search, filters,
sort, capped counts) and the lead page, and the synthetic lead generator of the demo,
tests and benchmarks. The bottom of the feedback app with the access lookups and the
models: every other capability may import it."""
