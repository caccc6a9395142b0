"""One task's log: the buffer of pages, the search matches, what a line shows and how it is
drawn, and the widgets that show it (the view and the pane with its status line and search)."""
