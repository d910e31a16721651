"""Cluster mode: many processes on many machines poll the sources of one PostgreSQL store,
through the procrastinate task engine.

- `engine`: the engine's app (its tables in their own PostgreSQL schema), the job shape;
- `leader`: which scheduler process is the active one (a PostgreSQL advisory lock);
- `dispatch`: what the active scheduler does: defer the due sources, recover the jobs of
  dead workers;
- `worker`: a worker process's engine loop, running poll jobs through the `Poller`;
- `registry`: each process's heartbeat row (`vigie workers`, /health);
- `node`: one process of a cluster, in the role it was given.
"""
