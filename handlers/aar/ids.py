"""After Action Reviews' ids, shared by the listeners, the views, the tests and the shell."""

AAR_SUBCOMMAND = "aar"
# The summary's button: its value is the run id.
TURN_INTO_LESSON_ACTION = "aar_turn_into_lesson"
SUMMARY_BLOCK = "aar_summary_actions"
