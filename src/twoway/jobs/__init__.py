"""Durable background work: jobs in the database, retried with backoff, taken over from a runner
that died, with progress, run at a time or periodically (docs/architecture.md)."""
