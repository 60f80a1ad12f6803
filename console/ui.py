"""Small pieces of the console's look shared by every admin page: state and status badges."""
from django.utils.html import format_html

from assets.choices import AssetState

STATE_LABELS = dict(AssetState.choices)


def state_badge(state: str, label: str | None = None):
    """A coloured pill for an asset's lifecycle state (colours in console/static/console/console.css)."""
    return format_html('<span class="badge state-{}">{}</span>', state,
                       label or STATE_LABELS.get(state, state).split(" (")[0])


def badge(text: str, tone: str = ""):
    """A pill for anything else: tone is bad, warn, good, info or empty (grey)."""
    return format_html('<span class="badge tone-{}">{}</span>', tone or "plain", text)
