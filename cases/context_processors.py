from django.conf import settings


def caller(request):
    return {"quick_exit_url": settings.QUICK_EXIT_URL}
