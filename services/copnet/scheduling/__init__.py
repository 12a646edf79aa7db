"""scheduling: everything about *when* (calendars, session types; sessions come later)."""
