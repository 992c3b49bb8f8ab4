"""ASGI entry point: `uvicorn twoway.asgi:application` (what `twoway web` runs)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
# No persistent database connections under ASGI (Django's own advice): each request runs its sync
# code in a context of its own, so a kept connection is never reused, only left open until garbage
# collection, and a burst of webhooks exhausts PostgreSQL's max_connections.
os.environ.setdefault("TWOWAY_CONN_MAX_AGE", "0")
application = get_asgi_application()
