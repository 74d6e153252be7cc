"""Peer assists: ids shared by the listeners, the views, the tests and the manifest."""

PEER_ASSIST_COMMAND = "/peer-assist"
ASK_SHORTCUT = "ask_peer_assist"  # the message shortcut "Ask for a peer assist"
SUBCOMMAND = "assists"  # `/doughnut assists`

# The request modal
REQUEST_VIEW = "assist_request"
TITLE_BLOCK = "assist_title"
PLAN_BLOCK = "assist_plan"
LEARN_BLOCK = "assist_learn"
TAGS_BLOCK = "assist_tags"
NEEDED_BY_BLOCK = "assist_needed_by"
FORMAT_BLOCK = "assist_format"
COMMUNITY_BLOCK = "assist_community"
TEAM_BLOCK = "assist_team"
CO_REQUESTER_BLOCK = "assist_co_requester"
FIELD_ACTION = "value"
NO_COMMUNITY = "none"

# Buttons; their value is the request id, or "<request id>:<user id>"
HELP_ACTION = "assist_help"  # I can help (on the channel post)
SHARE_ACTION = "assist_share"
INVITE_ACTION = "assist_invite"  # the requester invites a suggested person
INVITE_YES_ACTION = "assist_invite_yes"
INVITE_NO_ACTION = "assist_invite_no"
ACCEPT_ACTION = "assist_accept"  # the requester accepts a volunteer
WITHDRAW_ACTION = "assist_withdraw"
DONE_ACTION = "assist_done"
CANCEL_ACTION = "assist_cancel"
CAPTURE_ACTION = "assist_capture"  # done: capture what we learned (the AAR form)
KUDOS_ACTION = "assist_kudos"  # done: kudos to the helpers, one click
HOME_ASK_ACTION = "home_ask_peer_assist"

# Scheduled follow-ups
NO_HELPER_JOB = "assist-no-helper"
OVERDUE_JOB = "assist-overdue"
