"""The scheduler: per-community jobs run on the leader, driven by `tick(now)`."""

from scheduler.loop import Job, Scheduler, run_scheduler

__all__ = ["Job", "Scheduler", "run_scheduler"]
