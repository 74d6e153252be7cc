"""Capturing lessons: ids shared by the listeners, the views, the tests and the shell."""

LESSON_COMMAND = "/lesson"
# Shortcuts (callback ids, as in manifest.yml)
SAVE_AS_LESSON_SHORTCUT = "save_as_lesson"
CAPTURE_SHORTCUT = "capture_lesson"

# The After Action Review modal
LESSON_VIEW = "lesson_capture"
TITLE_BLOCK = "lesson_title"
EXPECTED_BLOCK = "lesson_expected"
HAPPENED_BLOCK = "lesson_happened"
WHY_BLOCK = "lesson_why"
NEXT_TIME_BLOCK = "lesson_next_time"
TAGS_BLOCK = "lesson_tags"
TAG_PICK_BLOCK = "lesson_tag_pick"  # the tags already in use
COMMUNITY_BLOCK = "lesson_community"
PROJECT_BLOCK = "lesson_project"
# Each input's action id is its block id without the prefix.
FIELD_ACTION = "value"

# The Home tab's quick action: the form, as from the global shortcut
HOME_CAPTURE_ACTION = "home_capture_lesson"

# Buttons on a captured lesson (their value: the lesson id)
ADD_DETAILS_ACTION = "lesson_add_details"
UNDO_ACTION = "lesson_undo"

# The idea reaction: a message given it is proposed to its author as a lesson (by DM).
IDEA_REACTION = "bulb"
NOMINATION_ACTION = "lesson_from_nomination"  # its value: the nomination id
