"""Digests and the community's settings: ids shared by the listeners, views, tests and shell."""

# The coordinator's community settings modal
COMMUNITY_SETTINGS_VIEW = "community_settings"
TIMEZONE_BLOCK = "community_settings_timezone"
DAY_BLOCK = "community_settings_day"
TIME_BLOCK = "community_settings_time"
JOBS_BLOCK = "community_settings_jobs"
SNAPSHOT_CHANNELS_BLOCK = "community_settings_snapshot_channels"
ANCHOR_BLOCK = "community_settings_anchor"
KUDOS_BLOCK = "community_settings_kudos_to_channel"
FIELD_ACTION = "value"

# When both apply (a coordinator who is also a workspace admin): which settings to open
CHOOSE_COMMUNITY_ACTION = "settings_choose_community"  # value: the channel id
CHOOSE_WORKSPACE_ACTION = "settings_choose_workspace"
