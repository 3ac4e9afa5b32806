"""The Django admin is read-only, so nothing changes outside the portal's audited actions; secrets stay hidden."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent


@pytest.fixture
def superuser_admin(administrator):
    administrator.is_superuser = True  # as `createsuperuser` makes them: every model permission
    administrator.save()
    return administrator


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_is_read_only(rf, superuser_admin):
    request = rf.get("/admin/")
    request.user = superuser_admin
    assert admin.site._registry, "the admin has models registered"
    for model, model_admin in admin.site._registry.items():
        assert model_admin.has_view_permission(request), model
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        assert model_admin.get_actions(request) == {}, model


def test_changes_through_the_admin_are_refused(login_as, superuser_admin, caseworker):
    client = login_as(superuser_admin)
    address = EmailAddress.objects.get(user=caseworker)
    group = Group.objects.get(name="caseworker")
    before = AuditEvent.objects.count()

    assert client.get(admin_url(Group, "add")).status_code == 403
    assert client.post(admin_url(Group, "add"), {"name": "sneaky"}).status_code == 403
    response = client.post(admin_url(EmailAddress, "change", address.pk),
                           {"user": caseworker.pk, "email": "attacker@example.org", "verified": "on", "primary": "on"})
    assert response.status_code == 403
    assert client.post(admin_url(Group, "delete", group.pk), {"post": "yes"}).status_code == 403
    authenticator = Authenticator.objects.get(user=caseworker)
    assert client.post(admin_url(Authenticator, "delete", authenticator.pk), {"post": "yes"}).status_code == 403
    EmailAddress.objects.filter(pk=address.pk).update(verified=False)
    client.post(admin_url(EmailAddress, "changelist"), {"action": "make_verified", "_selected_action": [address.pk]})
    assert not EmailAddress.objects.get(pk=address.pk).verified  # the bulk action is not there to run

    address.refresh_from_db()
    assert address.email == caseworker.email
    assert not Group.objects.filter(name="sneaky").exists() and Group.objects.filter(pk=group.pk).exists()
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
    assert AuditEvent.objects.count() == before


def test_secrets_are_not_shown(login_as, superuser_admin, caseworker):
    client = login_as(superuser_admin)
    authenticator = Authenticator.objects.get(user=caseworker)
    page = client.get(admin_url(Authenticator, "change", authenticator.pk))
    assert page.status_code == 200
    assert caseworker.totp_secret not in page.content.decode()
    assert authenticator.data["secret"] not in page.content.decode()
