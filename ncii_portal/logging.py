import logging
import re

from gunicorn.glogging import Logger as GunicornBaseLogger

# Secrets that can appear in a logged line: one-time link tokens and set-password keys in paths, API key headers
# or parameters.
PATTERNS = [
    # The caller's one-time link (/h/<code>/, cases/caller_urls.py): its code is 10 characters, or more.
    (re.compile(r"(/(?:h|link|hash|c)/)[A-Za-z0-9_\-]{8,}"), r"\1[redacted]"),
    # allauth's set-password (invitation, reset) links: /accounts/password/reset/key/<uid>-<token>/
    (re.compile(r"(/password/reset/key/)[^/\s?\"']+"), r"\1[redacted]"),
    (re.compile(r"((?:key|token|secret|pin|password)=)[^&\s\"']+", re.I), r"\1[redacted]"),
    (
        re.compile(r"((?:x-functions-key|ocp-apim-subscription-key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+",
                   re.I),
        r"\1[redacted]",
    ),
]


def redact(text):
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites each record's message so tokens and keys never reach log storage."""

    def filter(self, record):
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # A traceback repeats the exception's message: format it now, redacted, so handlers use this text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's error and access logs, through RedactSecrets (ncii_portal/gunicorn.conf.py selects this)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactSecrets())
