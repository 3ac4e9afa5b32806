from allauth.account.adapter import DefaultAccountAdapter


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Staff are invited by an administrator (staff.actions.invite_staff); there is no public sign-up.
        return False
