"""Managers' mail: the SMTP transport (``SIPAS_SMTP_URL``), signed unsubscribe links, alert messages and digests.

Messages name agencies, counters, dates and scores, and quote comment excerpts (already scrubbed at storage);
never a citizen's identity. Every message sent is recorded (``notification_sends``) so a scheduled run
(``flask send-digests``, ``flask compute-alerts``) never sends the same digest or alert twice.
"""
