"""Full screens (main, run, log, compare, history, monitor); each screen's layout lives in a
.tcss next to it."""
