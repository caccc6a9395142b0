"""One router per area of the Runner protocol; deployments and models get their own later."""
