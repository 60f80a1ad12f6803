"""The console's shared admin pieces, imported by every app's admin (which console/ never imports): badges in the
states' colours, the tones of severities and verdicts, the read-only admin for records the system writes. The
asset timeline is console/timeline.py."""
from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from assets.choices import AssetState

# How loud a badge or a timeline dot is: bad, warn, good, info or plain (colours in console/static/console/console.css).
SEVERITY_TONE = {"critical": "bad", "warning": "warn", "info": "info"}
VERDICT_TONE = {"passed": "good", "failed": "bad", "error": "bad", "inconclusive": "warn", "pending": "info",
                "running": "info"}


def state_badge(state: str, *, big: bool = False):
    """A pill for an asset's lifecycle state: its label, its colour, its description as the tooltip (all from
    assets/choices.py)."""
    if state not in AssetState.values:
        return format_html('<span class="badge tone-plain">{}</span>', state)
    state = AssetState(state)
    return format_html('<span class="badge{} state-{}" title="{}">{}</span>', " big" if big else "", state.value,
                       state.description, state.label)


def badge(text: str, tone: str = ""):
    """A pill for anything else: tone is bad, warn, good, info or empty (grey)."""
    return format_html('<span class="badge tone-{}">{}</span>', tone or "plain", text)


def state_styles(nonce: str = ""):
    """The states' colours as the console's style sheet uses them (a <style> on every console page, from
    base_site.html): the --c-<state> variables, the badges, the dashboard's tiles, the timeline's dots. `nonce` is
    the request's Content-Security-Policy nonce, which lets this one inline style through."""
    rules = []
    for state in AssetState:
        v = state.value
        rules.append(f":root {{ --c-{v}: {state.colour}; --c-{v}-bg: {state.background}; }}\n"
                     f".badge.state-{v} {{ color: var(--c-{v}); background: var(--c-{v}-bg); }}\n"
                     f".kpi.state-{v} {{ border-top-color: var(--c-{v}); }}\n"
                     f"ol.timeline li.state-{v}::before {{ background: var(--c-{v}); }}")
    # The colours are literals of assets/choices.py, not user input.
    return format_html('<style nonce="{}">\n{}\n</style>', nonce, mark_safe("\n".join(rules)))  # noqa: S308


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that are written by the system only (raw fault events, audit rows, inspections, the outbox)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
