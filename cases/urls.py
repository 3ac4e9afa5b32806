from django.urls import path

from cases import views

urlpatterns = [
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/open-case/", views.contact_open_case, name="contact_open_case"),
    path("cases/<str:reference>/", views.case_detail, name="case_detail"),
    path("cases/<str:reference>/live.json", views.case_live, name="case_live"),
    path("cases/<str:reference>/links/", views.case_issue_link, name="case_issue_link"),
    path("cases/<str:reference>/links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
]
