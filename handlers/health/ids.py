"""Community health: names shared by the listeners, the views, the tests and the shell."""

STATS_SUBCOMMAND = "stats"
CHART_FILENAME = "doughnut-health.png"
