"""Operations: the worker heartbeat and the periodic housekeeping sweep. May import every
capability below it."""
