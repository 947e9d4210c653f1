"""Benchmarks and load-test data: generated CRM files and their mapping, page timings.
The top of the feedback app: nothing imports it but commands."""
