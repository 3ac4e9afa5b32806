from django import forms

from audit.models import AuditEvent
from core.forms import DayRangeForm, day_field
from staff.models import User


class AuditFilterForm(DayRangeForm):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.ModelChoiceField(label="Who", queryset=User.objects.all(), required=False, empty_label="Anyone")
    target_type = forms.CharField(label="Target type", required=False, max_length=60)
    target_id = forms.CharField(label="Target id", required=False, max_length=64)
    since = day_field("From")
    until = day_field("To")
    day_range = ("since", "until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in actions]

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
        return events.filter(self.days_q("at"))
