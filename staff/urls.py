from django.urls import path

from staff import audit_log, views

urlpatterns = [
    path("audit/", audit_log.event_list, name="audit_log"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("staff/<int:pk>/reactivate/", views.staff_reactivate, name="staff_reactivate"),
    path("staff/<int:pk>/reset-mfa/", views.staff_reset_mfa, name="staff_reset_mfa"),
    path("staff/<int:pk>/resend-invitation/", views.staff_resend_invitation, name="staff_resend_invitation"),
]
