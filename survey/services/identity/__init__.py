"""Staff accounts, roles, sign-in throttling, API tokens and the audit log."""
