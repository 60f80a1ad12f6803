"""Forms of the admin console for the fleet: the reason staff give when they move an asset through its lifecycle."""
from django import forms


class TransitionReasonForm(forms.Form):
    """Every transition asked for by hand says why: the reason goes into the asset's audit row."""

    # Same limit as the API's transition request, so a reason is valid whichever way it arrives.
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Why: this goes into the asset's audit trail.",
    )
