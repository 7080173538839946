"""Payments: providers (sandbox built in), payment intents, incoming provider webhooks."""
