"""Template filters of the console: `{{ asset.state|state_badge }}`, `{{ text|badge:"bad" }}`."""
from django import template

from console import ui

register = template.Library()


@register.filter
def state_badge(state):
    return ui.state_badge(state)


@register.filter
def badge(text, tone=""):
    return ui.badge(text, tone)
