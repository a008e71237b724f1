"""All queries and writes. Each write service owns its transaction (``db.write()``)."""
