from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cases.access import REASONS
from cases.models import AbuseType, Case, CaseNote, Contact, Referral
from core.forms import DayRangeForm, day_field

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

# The eligibility script, in the order it is asked. A "no" ends it: the later questions are not needed.
ELIGIBILITY = ["in_content", "adult_in_content", "intimate", "has_files"]


def yes_no(label, help_text=""):
    return forms.TypedChoiceField(label=label, help_text=help_text, choices=YES_NO, widget=forms.RadioSelect,
                                  coerce=lambda value: value == "yes", required=False, empty_value=None)


class EligibilityMixin:
    """Each question needs an answer until one is "no"."""

    def clean(self):
        data = super().clean()
        for name in ELIGIBILITY:
            answer = data.get(name)
            if answer is None and name not in self.errors:
                self.add_error(name, _("Please answer this question."))
            if answer is not True:
                break
        return data


class IntakeForm(EligibilityMixin, forms.ModelForm):
    """What the caseworker records during the call (the helpline's eligibility script)."""

    language = forms.ChoiceField(label="Language of the conversation",
                                 choices=settings.LANGUAGES + [("other", "Other")])
    in_content = yes_no("Is the caller the person in the images, or calling for them?")
    adult_in_content = yes_no("Was that person 18 or over in the images?",
                              "No: no case is opened. Refer to Take It Down and, in the UK, Childline / IWF "
                              "Report Remove, and explain why to the caller.")
    intimate = yes_no("Are the images or videos intimate (nude, sexual, or underwear)?")
    has_files = yes_no("Does the caller have the files on a device they can use now?")

    class Meta:
        model = Contact
        fields = ["channel", "language", "caller", *ELIGIBILITY, "abuse_type", "immediate_danger",
                  "self_harm_risk", "abuser_contact", "child_involved"]
        labels = {
            "channel": "Channel",
            "caller": "Who is calling",
            "abuse_type": "What happened",
            "immediate_danger": "The caller is in immediate danger",
            "self_harm_risk": "Risk of self-harm",
            "abuser_contact": "Ongoing contact with the abuser",
            "child_involved": "A child is involved or at risk",
        }
        widgets = {"channel": forms.RadioSelect, "caller": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff record calls, chats, emails and visits; self-service contacts come from the public start page.
        self.fields["channel"].choices = [c for c in Contact.Channel.choices if c[0] != Contact.Channel.SELF_SERVICE]
        self.fields["abuse_type"].required = False


class SelfServiceForm(EligibilityMixin, forms.Form):
    """The same questions, in the caller's own words, on the public start page."""

    in_content = yes_no(_("Are you the person in the images or videos?"),
                        _("If you are helping someone else, they should fill this in themselves if they can."))
    adult_in_content = yes_no(_("Were you 18 or over when they were taken or made?"))
    intimate = yes_no(_("Are they intimate (nude, sexual, or in underwear)?"))
    has_files = yes_no(_("Do you have the images or videos on this device?"))
    abuse_type = forms.ChoiceField(label=_("What happened?"), required=False,
                                   choices=[("", _("I'd rather not say"))] + list(AbuseType.choices))
    immediate_danger = forms.BooleanField(label=_("I am in danger right now"), required=False)


class StatusForm(forms.Form):
    reference = forms.CharField(label=_("Case reference"), max_length=30,
                                help_text=_("12 letters and numbers, for example ABCD-1234-EFGH."),
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                              "autocapitalize": "characters", "dir": "ltr"}))
    pin = forms.CharField(label=_("PIN"), max_length=20, help_text=_("8 digits."),
                          widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric",
                                                            "dir": "ltr"}))


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30, help_text=_("10 letters and numbers, for example "
                                                                         "K7QD3-MXP2A."),
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                         "autocapitalize": "characters", "dir": "ltr"}))


# --- Casework (staff) ----------------------------------------------------------------------------------------


class CaseFilterForm(DayRangeForm):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any")] + list(Case.Status.choices))
    abuse_type = forms.ChoiceField(label="What happened", required=False,
                                   choices=[("", "Any")] + list(AbuseType.choices))
    assigned = forms.ChoiceField(label="Assigned to", required=False)
    opened_from = day_field("Opened from")
    opened_to = day_field("Opened to")
    day_range = ("opened_from", "opened_to")

    def __init__(self, *args, staff_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned"].choices = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned")] + [
            (str(pk), name) for pk, name in staff_choices]


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(label="Why are you opening this case?", choices=REASONS, widget=forms.RadioSelect)
    note = forms.CharField(label="Note", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="Kept apart from the audit log, and purged on its schedule.")


class NoteForm(forms.Form):
    text = forms.CharField(label="Add a note", max_length=CaseNote.MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ReferralForm(forms.Form):
    # No service chosen in advance: a referral saved by mistake would read as advice the caller was given.
    to = forms.ChoiceField(label="Service", choices=[("", "Choose a service")] + list(Referral.To.choices))
    status = forms.ChoiceField(label="Referral status", choices=Referral.Status.choices)
    outcome = forms.CharField(label="Outcome", required=False, max_length=200)


class EvidenceItemForm(forms.Form):
    label = forms.CharField(label="Checklist item", max_length=200)
    position = forms.IntegerField(label="Position", min_value=0, max_value=1000, initial=100)
