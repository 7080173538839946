"""Accounts: users, sessions, roles, API tokens, two-factor."""
