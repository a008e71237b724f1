"""A citizen's submission: validated, stored exactly once with its tallies, flagged, scrubbed; counter
tokens and survey links."""
