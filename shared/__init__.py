"""Genting's kernel: envelope, event store, outbox, projections, settings, logging, auth, HTTP."""
