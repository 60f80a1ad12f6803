"""Template tags of the console: `{{ asset.state|state_badge }}` (`|state_badge:"big"`), `{{ text|badge:"bad" }}`,
`{% state_styles %}`."""
from django import template

from console import ui

register = template.Library()


@register.filter
def state_badge(state, size=""):
    return ui.state_badge(state, big=size == "big")


@register.filter
def badge(text, tone=""):
    return ui.badge(text, tone)


@register.simple_tag(takes_context=True)
def state_styles(context):
    nonce = getattr(context.get("request"), "csp_nonce", None)  # lazy: str() makes it, and puts it in the header
    return ui.state_styles(nonce=str(nonce) if nonce is not None else "")
