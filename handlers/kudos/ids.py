"""Kudos: ids shared by the listeners, the views, the tests and the shell."""

KUDOS_COMMAND = "/kudos"
# The message shortcut "Give kudos for this" (callback id, as in manifest.yml) and its modal
GIVE_FOR_MESSAGE_SHORTCUT = "give_kudos_for_message"
MESSAGE_VIEW = "kudos_for_message"
# The Home tab's "Give kudos" button and its modal
HOME_GIVE_ACTION = "home_give_kudos"
GIVE_VIEW = "kudos_give"
RECEIVERS_BLOCK = "kudos_receivers"
REASON_BLOCK = "kudos_reason"
TAGS_BLOCK = "kudos_tags"
FIELD_ACTION = "value"  # every field's action id
# The Undo button on a confirmation (its value: the kudos ids, comma-separated)
UNDO_ACTION = "kudos_undo"
