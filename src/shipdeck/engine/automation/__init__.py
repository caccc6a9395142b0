"""What happens without an operator: schedules and triggers, monitors, notifications and
retention. Starts runs through the run engine and reads the deployment ledger."""
