from django.shortcuts import render

from hashing import signal_types
from staff import roles
from staff.decorators import role_required


@role_required(roles.ANY)
def hasher_check(request):
    """Drop files and see their hashes, computed in this browser; nothing is uploaded.

    For partners comparing their own hasher during onboarding, and for staff checking a caller's result.
    """
    return render(request, "hashing/check.html", {
        "pdq_match_distance": signal_types.PDQ_MATCH_DISTANCE,
        "pdq_min_quality": signal_types.PDQ_MIN_QUALITY,
    })
