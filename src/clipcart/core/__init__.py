"""Shared mechanisms every domain stands on: config, database, errors, money, ids, time, jobs."""
