"""Communities' ids, shared by its listeners, its views, the tests and the shell."""

# Modals (callback ids)
COMMUNITY_SETUP_VIEW = "community_setup"
# Setup from the Home tab, first step: pick the channel (checked before the rest is asked)
COMMUNITY_PICK_VIEW = "community_setup_pick"

# Community setup modal: block ids and action ids
SETUP_NAME_BLOCK = "setup_name"
SETUP_NAME_ACTION = "name"
SETUP_DESCRIPTION_BLOCK = "setup_description"
SETUP_DESCRIPTION_ACTION = "description"
SETUP_TIMEZONE_BLOCK = "setup_timezone"
SETUP_TIMEZONE_ACTION = "timezone"
SETUP_COORDINATORS_BLOCK = "setup_coordinators"
SETUP_COORDINATORS_ACTION = "coordinators"
SETUP_REVIEWERS_BLOCK = "setup_reviewers"
SETUP_REVIEWERS_ACTION = "reviewers"
SETUP_SPONSORS_BLOCK = "setup_sponsors"
SETUP_SPONSORS_ACTION = "sponsors"
# Community setup opened from the Home tab: the channel is picked in the modal
SETUP_CHANNEL_BLOCK = "setup_channel"
SETUP_CHANNEL_ACTION = "channel"

# Home tab quick action
HOME_SETUP_ACTION = "home_setup_community"
