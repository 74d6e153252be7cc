"""The member cache: ids shared by the listeners, the jobs and the tests."""

SYNC_JOB = "member-sync"
