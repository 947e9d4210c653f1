"""Shadow runs: a proposal's definition classifies live leads next to the published
version, without changing what sales sees; the report, the disagreement queue and the
proposal page's panel."""
