"""Public survey links: the address printed in each counter's QR code.

``/s/<token>`` is a contract with every printed poster: it must never change without a redirect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survey.models import Counter
from survey.services.submissions.tokens import sign_counter

SURVEY_PATH = "/s/"


def counter_survey_path(config: Mapping[str, Any], counter: Counter) -> str:
    return SURVEY_PATH + sign_counter(config["SECRET_KEY"], counter.id, counter.key_version)


def counter_survey_url(config: Mapping[str, Any], counter: Counter) -> str:
    """Absolute URL under SIPAS_BASE_URL, for QR codes and the CLI."""
    return config["BASE_URL"] + counter_survey_path(config, counter)
