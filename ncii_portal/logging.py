import logging
import re

# Secrets that can appear in a logged line: one-time link tokens in paths, API key headers or parameters.
PATTERNS = [
    (re.compile(r"(/(?:h|link|hash|c)/)[A-Za-z0-9_\-]{16,}"), r"\1[redacted]"),
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
        return True
