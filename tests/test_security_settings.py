"""Production settings pass Django's deployment checks; the browser's protections are on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import logged_in
from twoway.accounts.models import Membership

PRODUCTION = {
    "DEBUG": "false",
    "TWOWAY_PUBLIC_URL": "https://texts.example.com",
    "ALLOWED_HOSTS": "texts.example.com",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-that-is-long-and-random-9f3a1c",
}

_SETTINGS_OF = """
import json, django
from django.conf import settings
django.setup()
names = [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""

_CHECK_DEPLOY = """
import django
from django.core.management import call_command
django.setup()
call_command("check", deploy=True, fail_level="WARNING")
"""


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Settings are read from the environment when they are imported: a process of its own.
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "TWOWAY_PUBLIC"))
    }
    environ.update(DJANGO_SETTINGS_MODULE="twoway.settings", TWOWAY_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _run(_CHECK_DEPLOY, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout


def test_an_https_public_url_turns_the_https_settings_on(tmp_path: Path) -> None:
    result = _run(_SETTINGS_OF, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_each_https_setting_can_be_set_on_its_own(tmp_path: Path) -> None:
    overrides = {
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "3600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Scheme",
        "CSRF_COOKIE_SECURE": "false",
    }
    result = _run(_SETTINGS_OF, tmp_path, **PRODUCTION, **overrides)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SCHEME", "https"]
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    no_header = _run(_SETTINGS_OF, tmp_path, **PRODUCTION, SECURE_PROXY_SSL_HEADER="")
    assert json.loads(no_header.stdout)["SECURE_PROXY_SSL_HEADER"] is None


def test_without_https_nothing_is_forced(tmp_path: Path) -> None:
    result = _run(_SETTINGS_OF, tmp_path, TWOWAY_PUBLIC_URL="http://192.168.1.5:8000")
    values = json.loads(result.stdout)
    assert not values["SECURE_SSL_REDIRECT"] and not values["SESSION_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] == 0 and values["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(standard: Membership) -> None:
    for response in (Client().get("/login/"), logged_in(standard).get("/inbox/")):
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives == {
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data: blob:",
            "media-src": "'self' blob:",
            "connect-src": "'self'",
            "frame-ancestors": "'none'",
            "form-action": "'self'",
            "base-uri": "'self'",
            "object-src": "'none'",
        }


def test_the_redirect_to_https_spares_the_health_check(settings: object) -> None:
    settings.SECURE_SSL_REDIRECT = True  # type: ignore[attr-defined]
    assert Client().get("/healthz").status_code == 200
    response = Client().get("/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    # Behind the proxy, its header says the request came over HTTPS.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # type: ignore[attr-defined]
    assert Client().get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
