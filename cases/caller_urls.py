"""The caller's pages (namespace "caller"): public, declared so in core/access.py.

The link's code is in the /h/ path; ncii_portal/logging.py redacts it there (tests/test_log_redaction.py).
"""

from django.urls import path

from cases import caller_views as views

app_name = "caller"

urlpatterns = [
    path("h/", views.enter_code, name="enter_code"),
    path("h/<str:code>/", views.hash_files, name="hash"),
    path("h/<str:code>/submit/", views.submit, name="submit"),
    path("h/<str:code>/pin/", views.new_pin, name="new_pin"),
    path("start/", views.start, name="start"),
    path("status/", views.status, name="status"),
    path("status/case/", views.case_status, name="case"),
    path("status/withdraw/", views.withdraw, name="withdraw"),
    path("leave/", views.leave, name="leave"),
    path("help/", views.cover_tracks, name="cover_tracks"),  # a plain address: it may show in the history
]
