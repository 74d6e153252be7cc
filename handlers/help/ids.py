"""Help's ids."""

# Home tab quick action
HOME_HELP_ACTION = "home_help"
