from datetime import datetime, time

from django import forms
from django.utils import timezone

from audit.models import AuditEvent
from staff.models import User


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.ModelChoiceField(label="Who", queryset=User.objects.all(), required=False, empty_label="Anyone")
    target_type = forms.CharField(label="Target type", required=False, max_length=60)
    target_id = forms.CharField(label="Target id", required=False, max_length=64)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in actions]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return data

    def filter(self, events):
        data = self.cleaned_data
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("actor"):
            events = events.filter(actor=data["actor"])
        if data.get("target_type"):
            events = events.filter(target_type__iexact=data["target_type"])
        if data.get("target_id"):
            events = events.filter(target_id=data["target_id"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            events = events.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data.get("until"):
            events = events.filter(at__lte=datetime.combine(data["until"], time.max, zone))
        return events
