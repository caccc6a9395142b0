"""Monitoring: data drift between data sets (and, later, monitors, checks and alerts)."""
