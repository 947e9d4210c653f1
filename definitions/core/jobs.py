"""Queueing background work by the task's registered name.

Services queue Celery tasks, and the tasks call services: importing the task modules
from the services would make a circle. So services name the task instead
("feedback.tasks.run_import"), and this looks it up in the Celery app's registry at
queueing time, after making sure every app's tasks module is registered (Celery's
autodiscovery, which the worker runs at start-up and a web process may not have run
yet). Calling the task object keeps CELERY_TASK_ALWAYS_EAGER working in tests.
"""

from __future__ import annotations

from typing import Any

from celery import current_app


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> Any:
    """Queue `task_name` with the given arguments; the broker's errors propagate."""
    tasks = current_app.tasks
    if task_name not in tasks:
        current_app.loader.import_default_modules()  # runs the tasks autodiscovery
    return tasks[task_name].delay(*args, **kwargs)
