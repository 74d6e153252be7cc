"""The scheduler: per-community jobs run on the leader, driven by `tick(now)`."""

from scheduler.jobs import build_scheduler
from scheduler.loop import Job, Scheduler, run_scheduler

__all__ = ["Job", "Scheduler", "build_scheduler", "run_scheduler"]
