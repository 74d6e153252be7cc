"""Doughnut: the knowledge loop of communities of practice, in Slack."""
