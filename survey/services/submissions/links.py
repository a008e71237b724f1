"""Public survey links: the address printed in each counter's QR code, and its tablet's kiosk link.

``/s/<token>`` is a contract with every printed poster: it must never change without a redirect. A
counter's tablet opens the same path with a kiosk token (``tokens.sign_kiosk``), so the survey's
service worker (scope ``/s/``) keeps its offline queue there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survey.models import Counter
from survey.services.submissions.tokens import sign_counter, sign_kiosk

SURVEY_PATH = "/s/"


def counter_survey_path(config: Mapping[str, Any], counter: Counter) -> str:
    return SURVEY_PATH + sign_counter(config["SECRET_KEY"], counter.id, counter.key_version)


def counter_survey_url(config: Mapping[str, Any], counter: Counter) -> str:
    """Absolute URL under SIPAS_BASE_URL, for QR codes and the CLI."""
    return config["BASE_URL"] + counter_survey_path(config, counter)


def kiosk_path(config: Mapping[str, Any], counter: Counter) -> str:
    """The tablet's link for the counter's current kiosk key version (it works only while kiosk mode is on)."""
    return SURVEY_PATH + sign_kiosk(config["SECRET_KEY"], counter.id, counter.kiosk_key_version)


def kiosk_url(config: Mapping[str, Any], counter: Counter) -> str:
    """Absolute kiosk link under SIPAS_BASE_URL, for the setup QR code staff scan with the tablet."""
    return config["BASE_URL"] + kiosk_path(config, counter)
