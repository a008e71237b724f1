"""Figures: sufficient-statistics tallies, indices with intervals, periods, dashboards, breakdowns, trends,
the PAR report."""
