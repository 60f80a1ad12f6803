#!/usr/bin/env python
"""Django's command-line utility for DAM."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dam.settings")
    from dam import embedded
    # Before the settings are loaded: they read the data directory and the secret key this makes.
    embedded.prepare()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
