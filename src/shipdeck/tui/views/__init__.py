"""The tab views of the main screen, and the pieces only they use."""
