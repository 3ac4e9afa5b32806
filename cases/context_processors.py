from django.conf import settings

from core.languages import native_names


def caller(request):
    offered = set(settings.CALLER_LANGUAGES)
    return {"quick_exit_url": settings.QUICK_EXIT_URL,
            "caller_languages": [(code, name) for code, name in native_names() if code in offered]}
