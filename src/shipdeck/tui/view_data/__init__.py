"""What each view shows, read from the runners and shaped into plain data. No textual here."""
