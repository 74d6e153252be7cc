"""`doughnut shell`: the real bot against the local Slack emulator, in a terminal or a script."""

from bot.shell.session import Shell, ShellStartupError, run_script, run_shell

__all__ = ["Shell", "ShellStartupError", "run_script", "run_shell"]
