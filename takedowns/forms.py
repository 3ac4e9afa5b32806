from django import forms

from partners.models import Partner
from takedowns.models import Address, AddressOutcome, Site, TakedownRequest


class PasteForm(forms.Form):
    addresses = forms.CharField(
        label="Web addresses, one on each line", max_length=400_000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Paste them as they came, from a message or a list: bullets, brackets and tracking parameters "
                  "are dropped, repeats merged. Lines that are not web addresses are shown back with the reason.")


class SiteForm(forms.ModelForm):
    domain = forms.CharField(label="Domain", max_length=300,
                             help_text="The site's domain, e.g. example.com (a web address on it will do).")
    partner = forms.ModelChoiceField(queryset=Partner.objects.order_by("name"), required=False,
                                     empty_label="Not a partner", help_text="A partner platform's own site.")
    web_form_url = forms.URLField(label="Removal web form", max_length=500, required=False, assume_scheme="https")
    hosting_domain = forms.CharField(label="Hosting provider's domain", max_length=300, required=False,
                                     help_text="Where unanswered requests are escalated, e.g. examplehost.net.")

    class Meta:
        model = Site
        fields = ["domain", "name", "kind", "abuse_email", "web_form_url", "language", "notes", "partner"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class SiteFilterForm(forms.Form):
    q = forms.CharField(label="Name or domain", max_length=100, required=False)
    kind = forms.ChoiceField(label="Kind", choices=[("", "Any kind"), *Site.Kind.choices], required=False)


# A reminder, or a site that is not a partner's, goes by mail or web form only.
ASKED_BY_HAND = [(m, label) for m, label in TakedownRequest.Method.choices if m != TakedownRequest.Method.PARTNER]


class RequestForm(forms.Form):
    method = forms.ChoiceField(label="How", choices=TakedownRequest.Method.choices, initial="mail")

    def __init__(self, *args, partner_site=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not partner_site:  # only a partner's own site can be sent its addresses through its feed
            self.fields["method"].choices = ASKED_BY_HAND
    basis = forms.ChoiceField(label="Relying on", choices=TakedownRequest.Basis.choices)
    statement = forms.CharField(
        label="Statement about the person", required=False, max_length=TakedownRequest.STATEMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only if the caller agrees: anything the site needs to know about them (e.g. that they can "
                  "confirm who they are). Without it the request says nothing about the caller.")


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label="Outcome", choices=[(o, Address.Outcome(o).label) for o in Address.RECORDED])
    reason = forms.CharField(label="The site's reason (for a refusal)", required=False,
                             max_length=AddressOutcome.REASON_LENGTH)
    at = forms.DateTimeField(label="When", required=False, help_text="Leave empty for now.",
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class RemindForm(forms.Form):
    method = forms.ChoiceField(label="How", choices=ASKED_BY_HAND, initial="mail")


class EscalateForm(forms.Form):
    hosting_domain = forms.CharField(label="Hosting provider's domain", max_length=300, required=False)
