from datetime import date

from django import forms

from core.periods import Period
from partners.models import Partner


class PeriodForm(forms.Form):
    # A date input takes and gives ISO dates (yyyy-mm-dd), whatever the page's language.
    first = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    partner = forms.ModelChoiceField(label="Partner", queryset=Partner.objects.order_by("name"), required=False,
                                     empty_label="All partners", to_field_name="slug")
    bucket = forms.ChoiceField(label="Chart by", choices=[("week", "ISO week"), ("month", "Month")],
                               initial="week")

    MAX_DAYS = 3 * 366

    @staticmethod
    def initial_values():
        window = Period.weeks_to_today(12)
        return {"first": window.first, "last": window.last, "bucket": "week"}

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError("The period ends before it starts.")
            if (last - first).days > self.MAX_DAYS:
                raise forms.ValidationError("Choose a period of at most three years.")
            if first < date(2000, 1, 1):
                raise forms.ValidationError("Choose a period from the year 2000 on.")
        return cleaned
