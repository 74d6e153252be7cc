"""Subcommand words of the contribution profile and the ledger."""

ME_SUBCOMMAND = "me"
PROFILE_SUBCOMMAND = "profile"
REPORT_SUBCOMMAND = "report"
