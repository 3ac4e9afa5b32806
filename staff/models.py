from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, Permission, PermissionsMixin
from django.db import models
from django.utils import timezone

from staff import roles


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_superuser", True)
        user = self.create_user(email, password, **fields)
        roles.sync_groups(Group, Permission)
        user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
        return user

    def active(self):
        return self.filter(is_active=True)

    def with_role(self, role):
        return self.filter(groups__name=role)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the helpline's staff. Callers never have accounts."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        permissions = [("manage_staff", "Invite, deactivate and reset staff accounts")]

    def __str__(self):
        return self.name or self.email

    @property
    def roles(self):
        if not hasattr(self, "_roles"):
            # groups.all() uses a prefetch when the list view made one.
            self._roles = frozenset(group.name for group in self.groups.all()) if self.pk else frozenset()
        return self._roles

    def has_role(self, *wanted):
        return self.is_active and bool(self.roles.intersection(wanted))

    @property
    def is_staff(self):
        # Only administrators reach the Django admin, and only through allauth's login (with MFA).
        return self.has_role(roles.ADMINISTRATOR)

    @property
    def role_labels(self):
        return [roles.LABELS[r] for r in roles.ALL if r in self.roles]

    def has_authenticator(self):
        return Authenticator.objects.filter(
            user=self, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
