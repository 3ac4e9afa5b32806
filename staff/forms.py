from django import forms

from staff import roles
from staff.models import User


class InviteForm(forms.Form):
    email = forms.EmailField(label="Work email")
    name = forms.CharField(label="Name", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles", choices=roles.CHOICES, widget=forms.CheckboxSelectMultiple,
        help_text="Choose at least one.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A staff member with this email already exists.")
        return email


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles", choices=roles.CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
