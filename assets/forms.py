"""Forms of the admin console for the fleet: the asset form, the reason staff give when they move assets through
their lifecycle, and the inventory file they import."""
from django import forms

from assets import bmc
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


class PowerReasonForm(forms.Form):
    """Every BMC power action asked for by hand says why: the reason goes onto the asset's timeline."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "autofocus": True,
                                     "placeholder": "e.g. hung at boot, no console"}),
        help_text="Why: this goes onto the asset's timeline with the BMC's answer.",
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


class AssetForm(forms.ModelForm):
    """The asset's editable details in the console, with its BMC. The hostname follows the one rule the API and the
    inventory import follow. The BMC password is write-only: the page never shows it (nor its ciphertext); typing
    one sets it, leaving the box empty keeps the one stored."""

    bmc_password = forms.CharField(
        label="BMC password", required=False, max_length=500, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one.")
    clear_bmc_password = forms.BooleanField(label="Clear the BMC password", required=False)

    def clean_hostname(self):
        hostname = self.cleaned_data["hostname"]
        validate_hostname(hostname)
        return hostname

    def clean_bmc_url(self):
        try:
            return bmc.normalized_url(self.cleaned_data.get("bmc_url") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def save(self, commit=True):
        password, clear = self.cleaned_data.get("bmc_password"), self.cleaned_data.get("clear_bmc_password")
        if password or clear:
            self.instance.set_bmc_password("" if clear else password)
        return super().save(commit=commit)

    def changed_model_fields(self) -> list[str]:
        """The columns this form changed, for save(update_fields=…): the password's column stands for its box."""
        fields = [name for name in self.changed_data if name not in ("bmc_password", "clear_bmc_password")]
        if self.cleaned_data.get("bmc_password") or self.cleaned_data.get("clear_bmc_password"):
            fields.append("bmc_password_encrypted")
        return fields
