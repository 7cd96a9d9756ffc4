"""Plumbing shared by the four services: settings, errors, auth, idempotency, telemetry, app."""
