"""Exceptions raised by :mod:`analytics` for bad input.

All are subclasses of :class:`ValueError`, so callers that only care about "the input was wrong" can
catch that; the app can catch :class:`AnalyticsError` to show the message to a statistician.
"""

from __future__ import annotations


class AnalyticsError(ValueError):
    """Base class for every error raised on purpose by the analytics package."""


class DesignError(AnalyticsError):
    """The sampling design is inconsistent: unknown stratum, lonely PSU, bad fpc, bad weights."""


class EstimationError(AnalyticsError):
    """An estimate was requested that the supplied sums cannot provide (e.g. composite C from sums)."""


class DataError(AnalyticsError):
    """Row-level input is malformed: missing column, non-numeric weight, score outside 1-5."""
