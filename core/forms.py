"""What staff filter forms share: a range of the helpline's days, from one to another."""

from django import forms

from core import periods


def day_field(label):
    """An optional day, typed in the browser's date picker."""
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


class DayRangeForm(forms.Form):
    """A filter form with a from and a to day (both optional, both included): `day_range` names its two
    day_fields."""

    day_range = ()

    def clean(self):
        data = super().clean()
        first, last = (data.get(name) for name in self.day_range)
        if first and last and first > last:
            labels = (self.fields[name].label for name in self.day_range)
            raise forms.ValidationError("“{}” must be on or before “{}”.".format(*labels))
        return data

    def days_q(self, field):
        """A Q: the field's moment falls on one of the chosen days."""
        return periods.days_q(field, *(self.cleaned_data.get(name) for name in self.day_range))
