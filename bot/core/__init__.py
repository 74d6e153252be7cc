"""The services: one module per capability, the domain rules without Slack.

A service takes the unit of work and plain arguments, applies the rules, writes through
`storage/`, and returns frozen dataclasses (never ORM rows: their lazy loads fail in async code
once the session is gone). No Slack payloads, no Bolt, no Block Kit.
"""
