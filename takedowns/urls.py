from django.urls import path

from takedowns import views

urlpatterns = [
    path("cases/<str:reference>/web-addresses/", views.case_addresses, name="case_web_addresses"),
    path("cases/<str:reference>/web-addresses/add/", views.add_addresses, name="web_addresses_add"),
    path("cases/<str:reference>/web-addresses/<int:pk>/remove/", views.remove_address, name="web_address_remove"),
    path("cases/<str:reference>/web-addresses/request/", views.request_takedown, name="takedown_request_new"),
    path("cases/<str:reference>/web-addresses/outcome/", views.record_outcome, name="web_addresses_outcome"),
    path("cases/<str:reference>/takedown-requests/<int:pk>/", views.takedown_request, name="takedown_request"),
    path("cases/<str:reference>/takedown-requests/<int:pk>/remind/", views.remind, name="takedown_remind"),
    path("cases/<str:reference>/takedown-requests/<int:pk>/escalate/", views.escalate, name="takedown_escalate"),
    path("cases/<str:reference>/takedown-requests/<int:pk>/send-again/", views.send_again,
         name="takedown_send_again"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
]
