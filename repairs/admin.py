"""Admin console (filled in below)."""
