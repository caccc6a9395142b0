"""Helpers for tests, benchmarks and screenshot scripts; nothing the cockpit itself imports."""
