"""The scheduler: jobs due in each community's timezone, claimed once per period, on the leader."""

from scheduler.jobs import HOUSEKEEPING, build_scheduler, core_jobs
from scheduler.loop import Scheduler, run_scheduler
from scheduler.registry import Every, Job, Jobs, Period, Schedule, Target

__all__ = [
    "HOUSEKEEPING",
    "Every",
    "Job",
    "Jobs",
    "Period",
    "Schedule",
    "Scheduler",
    "Target",
    "build_scheduler",
    "core_jobs",
    "run_scheduler",
]
