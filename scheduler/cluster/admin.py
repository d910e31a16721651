"""The engine app for procrastinate's own command line (its admin shell, health checks):

    VIGIE_STORAGE_URL=postgresql+psycopg://... procrastinate --app=scheduler.cluster.admin.app shell

It reads the store's URL from $VIGIE_STORAGE_URL, and names vigie's tasks so that the shell
lists them; it runs no task.
"""

from __future__ import annotations

import os

from scheduler.cluster.engine import POLL_TASK, PRUNE_TASK, QUEUE, make_app

URL = os.environ.get("VIGIE_STORAGE_URL")
if not URL:
    raise SystemExit("scheduler.cluster.admin: set VIGIE_STORAGE_URL to the cluster's database")

app = make_app(URL, max_size=2, autocommit=False)
for name in (POLL_TASK, PRUNE_TASK):
    app.task(name=name, queue=QUEUE)(lambda **_: None)
