"""Workspace settings: ids shared by the listeners, the views and the tests."""

SETTINGS_VIEW = "workspace_settings"
IDEA_REACTION_BLOCK = "settings_idea_reaction"
IDEA_REACTION_ACTION = "value"
