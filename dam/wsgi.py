"""WSGI entry point for gunicorn."""
import os

from django.core.wsgi import get_wsgi_application

from dam import embedded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")
# Before the settings are loaded: every web worker process reads the one secret key this makes (dam/embedded.py).
embedded.prepare()
application = get_wsgi_application()
