"""The demo workshop (Acme Instruments) of `make run`: a small app above both others,
because it creates what each of them owns — users and versions, leads, backtests and
verdicts — through their services."""
