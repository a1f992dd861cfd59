"""Operation limits: document size and shape, cost, rate and time, applied as a schema extension."""
