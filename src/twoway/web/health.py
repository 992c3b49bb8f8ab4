from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and uptime checks: the process answers (no database touched)."""
    return HttpResponse("ok", content_type="text/plain")
