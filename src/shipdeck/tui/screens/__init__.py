"""Screens and top-level views; each screen's layout lives in a .tcss next to it."""
