"""Running a node: liveness, readiness, the demo province."""
