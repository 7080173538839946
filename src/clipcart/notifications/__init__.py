"""Notifications: in-app notices and order emails over SMTP."""
