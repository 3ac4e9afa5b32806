"""The partner API (namespace "api"): public routes in core/access.py, with their own key auth."""

from django.urls import path, re_path

from partners import api, openapi

app_name = "api"

urlpatterns = [
    path("schema/", openapi.schema, name="schema"),
    path("docs/", openapi.docs, name="docs"),
    path("v1/hashes", api.hashes, name="hashes"),
    path("v1/feedback", api.feedback, name="feedback"),
    path("v1/contributions", api.contributions, name="contributions"),
    path("v1/acknowledgements", api.acknowledgements, name="acknowledgements"),
    path("stopncii/v1/FetchHashes", api.stopncii_fetch_hashes, name="stopncii_fetch_hashes"),
    path("stopncii/v1/SubmitFeedback", api.stopncii_submit_feedback, name="stopncii_submit_feedback"),
    path("stopncii/v1/SubmitHashes", api.stopncii_submit_hashes, name="stopncii_submit_hashes"),
    path("sandbox/", api.sandbox_page, name="sandbox"),
    path("sandbox/photos/<int:n>.jpg", api.sandbox_photo, name="sandbox_photo"),
    path("sandbox/v1/hashes", api.sandbox_hashes, name="sandbox_hashes"),
    path("sandbox/v1/feedback", api.sandbox_feedback, name="sandbox_feedback"),
    path("sandbox/stopncii/v1/FetchHashes", api.sandbox_fetch_hashes, name="sandbox_fetch_hashes"),
    path("sandbox/stopncii/v1/SubmitFeedback", api.sandbox_submit_feedback, name="sandbox_submit_feedback"),
    # last: anything else under /api/, a newline in it included ("." and "$" would stop at one)
    re_path(r"^(?P<path>[\s\S]*)\Z", api.not_found, name="not_found"),
]
