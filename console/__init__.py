"""The hardware staff's console: the admin's theme, the fleet dashboard, the asset timeline, inventory import and
the staff groups. It reads every other app and owns no table of its own."""
