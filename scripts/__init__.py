"""Operational scripts (restore drill) and the private PostgreSQL cluster the fault tests and soak use."""
