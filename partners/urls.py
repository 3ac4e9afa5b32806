from django.urls import path

from partners import views

urlpatterns = [
    path("partners/", views.partner_list, name="partner_list"),
    path("partners/review/", views.review_queue, name="review_queue"),
    path("partners/review/<int:pk>/", views.review_decide, name="review_decide"),
    path("partners/review/quarantine/", views.review_quarantine, name="review_quarantine"),
    path("partners/<slug:slug>/", views.partner_detail, name="partner_detail"),
    path("partners/<slug:slug>/move/", views.partner_move, name="partner_move"),
    path("partners/<slug:slug>/checklist/", views.partner_checklist, name="partner_checklist"),
    path("partners/<slug:slug>/contacts/", views.partner_contact_add, name="partner_contact_add"),
    path("partners/<slug:slug>/contacts/<int:pk>/remove/", views.partner_contact_remove,
         name="partner_contact_remove"),
    path("partners/<slug:slug>/webhook/", views.partner_webhook_set, name="partner_webhook_set"),
    path("partners/<slug:slug>/webhook/rotate/", views.partner_webhook_rotate, name="partner_webhook_rotate"),
    path("partners/<slug:slug>/webhook/test/", views.partner_webhook_test, name="partner_webhook_test"),
    path("partners/<slug:slug>/push/pause/", views.partner_push_pause, name="partner_push_pause"),
    path("partners/<slug:slug>/push/resume/", views.partner_push_resume, name="partner_push_resume"),
    path("partners/<slug:slug>/keys/", views.partner_key_issue, name="partner_key_issue"),
    path("partners/<slug:slug>/keys/<int:pk>/revoke/", views.partner_key_revoke, name="partner_key_revoke"),
    path("partners/<slug:slug>/keys/<int:pk>/rotate/", views.partner_key_rotate, name="partner_key_rotate"),
]
