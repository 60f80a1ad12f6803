"""Forms of the admin console for the fleet: the asset form, the reason staff give when they move assets through
their lifecycle, and the inventory file they import."""
from django import forms

from assets.models import Asset
from assets.validators import validate_hostname

# Same limit as the API's transition request, so a reason is valid whichever way it arrives.
REASON_MAX = 2000
# An inventory file of 100,000 machines is about 8 MB.
IMPORT_MAX_BYTES = 20 * 1024 * 1024


class TransitionReasonForm(forms.Form):
    """Every transition asked for by hand says why: the reason goes into the asset's audit row."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "autofocus": True,
                                     "placeholder": "e.g. fans failing in rack 4, replacing the PSU"}),
        help_text="Why: this goes into the asset's audit trail.",
    )


class BulkReasonForm(forms.Form):
    """The one reason given for a bulk action; it goes into the audit row of every machine it moves."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "autofocus": True}),
        help_text="Why: this goes into the audit trail of every machine below.",
    )


class InventoryUploadForm(forms.Form):
    """A CSV file, or its text pasted; after the dry run the text travels back in the hidden field."""

    file = forms.FileField(required=False, help_text="CSV with a header line.")
    csv_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
                               label="…or paste the CSV here")

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > IMPORT_MAX_BYTES:
                raise forms.ValidationError(f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MB: split it.")
            try:
                data["csv_text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not (data.get("csv_text") or "").strip():
            raise forms.ValidationError("Choose a CSV file or paste its text.")
        return data

    def text(self) -> str:
        return self.cleaned_data["csv_text"]


class AssetAdminForm(forms.ModelForm):
    """The admin's asset form: the hostname follows the one rule the API and the inventory import follow."""

    class Meta:
        model = Asset
        fields = "__all__"

    def clean_hostname(self):
        hostname = self.cleaned_data["hostname"]
        validate_hostname(hostname)
        return hostname
