from django import forms

from hashing import signal_types
from partners.models import ApiKey, Partner, PartnerContact


class PartnerForm(forms.ModelForm):
    signal_types = forms.MultipleChoiceField(label="Signal types it matches", choices=signal_types.CHOICES,
                                             widget=forms.CheckboxSelectMultiple, required=False,
                                             help_text="None ticked: every type.")

    class Meta:
        model = Partner
        fields = ["name", "slug", "delivery", "signal_types", "notes"]


class ChecklistForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = [field for field, _label in Partner.CHECKLIST]
        labels = dict(Partner.CHECKLIST)


class KeyForm(forms.Form):
    label = forms.CharField(label="Label", max_length=100, required=False)
    scopes = forms.MultipleChoiceField(label="Scopes", choices=ApiKey.Scope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    expires_in_days = forms.IntegerField(label="Expires in (days)", min_value=1, max_value=3650, required=False,
                                         help_text="Empty: no expiry.")


class ContactForm(forms.ModelForm):
    class Meta:
        model = PartnerContact
        fields = ["name", "email", "role"]
        help_texts = {"role": "e.g. technical contact, trust and safety lead, data protection officer"}


class WebhookForm(forms.Form):
    url = forms.URLField(label="Webhook URL", max_length=500, assume_scheme="https",
                         help_text="Public https only. Saving gives a new signing secret, shown once.")
    ack_on_2xx = forms.BooleanField(label="A 2xx to a batch that withdraws hashes counts as acknowledging them",
                                    required=False, help_text="Only where the agreement says the partner applies "
                                    "withdrawals as it accepts the call.")
