"""The run engine: pipelines run as task subprocesses, their output kept, their history stored.

It imports nothing of the deployment half (engine/deploy) or of automation (engine/automation).
"""
