"""Scheduled jobs (APScheduler 3), started and stopped by the composition root."""
