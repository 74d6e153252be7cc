"""Doughnut: the knowledge loop of communities of practice, in Slack."""

# The one place the version is written (pyproject.toml reads it from here).
__version__ = "0.1.0"
