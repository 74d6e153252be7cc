"""The chassis's ids (each capability keeps its own in `handlers/<capability>/ids.py`)."""

# The one slash command every capability hangs its subcommands on
DOUGHNUT_COMMAND = "/doughnut"
