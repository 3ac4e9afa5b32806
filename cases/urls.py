from django.urls import path

from cases import views

urlpatterns = [
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/open-case/", views.contact_open_case, name="contact_open_case"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<str:reference>/", views.case_detail, name="case_detail"),
    path("cases/<str:reference>/open/", views.case_open_by_reference, name="case_open_by_reference"),
    path("cases/<str:reference>/live.json", views.case_live, name="case_live"),
    path("cases/<str:reference>/links/", views.case_issue_link, name="case_issue_link"),
    path("cases/<str:reference>/links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
    path("cases/<str:reference>/status/", views.case_move, name="case_move"),
    path("cases/<str:reference>/assign/", views.case_assign, name="case_assign"),
    path("cases/<str:reference>/checklist/", views.case_checklist, name="case_checklist"),
    path("cases/<str:reference>/referrals/", views.case_referral, name="case_referral"),
    path("cases/<str:reference>/notes/", views.case_note, name="case_note"),
    path("evidence-checklist/", views.evidence_template, name="evidence_template"),
    path("evidence-checklist/<int:pk>/", views.evidence_template_item, name="evidence_template_item"),
]
