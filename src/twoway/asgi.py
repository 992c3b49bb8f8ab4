"""ASGI entry point: `uvicorn twoway.asgi:application` (what `twoway web` runs)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
application = get_asgi_application()
