"""What happens when a run finishes, said by the backtests and heard by the packages
above them (connected in feedback/apps.py), so that backtests need not import the
verdicts or the accuracy that build on their results.

- ``run_done``: sent inside the transaction that marks the run done, with the run's
  row locked. Receivers must work in that transaction (the verdict tallies count the
  run here, under the lock every verdict change takes).
- ``run_settled``: sent by the slow after-work of a done run (a worker task), before
  older runs are dropped; a receiver may return a dict of fields to store on the
  run (the accuracy against outcomes is counted here, once).
"""

from __future__ import annotations

from django.dispatch import Signal

run_done = Signal()  # sender=EvaluationRun, run=<the run>
run_settled = Signal()  # sender=EvaluationRun, run=<the run>
