from datetime import date

from django import forms

from core.periods import Period, month_start, today
from partners.models import Partner
from stats.reading import DEFAULT_WEEKS

# Statistics are for the years 2000 to 2100: a date outside is a typing slip, not a period to count.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


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
        window = Period.weeks_to_today(DEFAULT_WEEKS)
        return {"first": window.first, "last": window.last, "bucket": "week"}

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first"), cleaned.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError("The period ends before it starts.")
            if (last - first).days > self.MAX_DAYS:
                raise forms.ValidationError("Choose a period of at most three years.")
            if first < EARLIEST:
                raise forms.ValidationError("Choose a period from the year 2000 on.")
            if last > LATEST:
                raise forms.ValidationError("Choose a period up to the year 2100.")
        return cleaned


class MonthForm(forms.Form):
    """The monthly report's month picker. A month input gives yyyy-mm; where a browser has none, that is typed."""

    month = forms.DateField(
        label="Month", input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month", "min": f"{EARLIEST:%Y-%m}", "placeholder": "yyyy-mm"},
                               format="%Y-%m"),
        error_messages={"required": "Choose a month.", "invalid": "Choose a month as year and month: 2026-03."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].widget.attrs["max"] = f"{month_start(today()):%Y-%m}"  # nothing to count after it

    def clean_month(self):
        month = self.cleaned_data["month"]
        if not EARLIEST <= month <= LATEST:
            raise forms.ValidationError("Choose a month from January 2000 to December 2100.")
        return month
