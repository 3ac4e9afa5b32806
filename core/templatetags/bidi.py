"""Text that must read left to right inside any language's text (a case reference, a PIN), also inside Arabic and
Urdu: wrapped in Unicode's left-to-right isolate, which, unlike markup, also works inside a translated sentence."""

from django import template

register = template.Library()


@register.filter
def ltr(value):
    return f"\u2066{value}\u2069"
