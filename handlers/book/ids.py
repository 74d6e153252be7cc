"""The book of knowledge's ids, shared by its listeners, its views, the tests and the shell."""

LESSONS_COMMAND = "/lessons"

# Buttons on a lesson (value: the lesson id) and on a page of results (value: the query)
MORE_ACTION = "lessons_more"
USED_ACTION = "lesson_used"
PUBLISH_ACTION = "lesson_publish"
VALIDATE_ACTION = "lesson_validate"
NEEDS_WORK_ACTION = "lesson_needs_work"
RETIRE_ACTION = "lesson_retire"
REVIEW_ACTIONS = (VALIDATE_ACTION, NEEDS_WORK_ACTION, RETIRE_ACTION)

# Modals (callback ids): a review note, "I used this" with its note, taking a use back
REVIEW_VIEW = "lesson_review"
USED_VIEW = "lesson_used"
UNUSE_VIEW = "lesson_unuse"

# Their one field
NOTE_BLOCK = "lesson_note"
NOTE_ACTION = "note"
