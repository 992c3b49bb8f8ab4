"""One error body for the whole API: {"error": {"code": ..., "message": ...}}.

Only ninja's own 422 for a request that does not match the schema keeps ninja's format.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from twoway.accounts.throttling import TooManyAttempts
from twoway.core.errors import TwowayError

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}


def error_response(
    api: NinjaAPI, request: HttpRequest, *, status: int, code: str, message: str
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message}}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    # ninja picks the handler of the nearest class in the exception's MRO, so the
    # AuthenticationError handler wins over the HttpError one.

    @api.exception_handler(TwowayError)
    def on_twoway_error(request: HttpRequest, exc: TwowayError) -> HttpResponse:
        # The services' errors (NotFound, PermissionDenied, InvalidInput...) carry their status.
        response = error_response(
            api, request, status=exc.status, code=exc.code, message=exc.message
        )
        if isinstance(exc, TooManyAttempts):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            api,
            request,
            status=401,
            code="unauthorized",
            message="Send a valid API key as the header 'Authorization: Bearer <key>'.",
        )
        # RFC 6750: tell the client which scheme to use.
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja's own errors (an unparsable JSON body is a 400) in our format.
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(api, request, status=exc.status_code, code=code, message=exc.message)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(
            api, request, status=404, code="not_found", message="Nothing is here."
        )
