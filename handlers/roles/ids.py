"""Roles: names shared by the listeners, the views, the tests and the shell."""

ROLES_SUBCOMMAND = "roles"
GRANT_SUPPORT = "grant-support"
REVOKE_SUPPORT = "revoke-support"
