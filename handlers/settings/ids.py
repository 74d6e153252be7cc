"""Workspace settings: ids shared by the listeners, the views and the tests."""

SETTINGS_VIEW = "workspace_settings"
IDEA_REACTION_BLOCK = "settings_idea_reaction"
IDEA_REACTION_ACTION = "value"
KUDOS_EMOJI_BLOCK = "settings_kudos_emoji"
KUDOS_ALLOWANCE_BLOCK = "settings_kudos_allowance"
KUDOS_REASON_BLOCK = "settings_kudos_reason"
FIELD_ACTION = "value"  # every field's action id (the idea reaction's too)
REASON_REQUIRED = "required"
REASON_OPTIONAL = "optional"
