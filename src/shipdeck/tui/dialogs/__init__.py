"""Modal dialogs: each asks one thing over the screen underneath and dismisses with the answer."""
