"""The admin site's own settings for the console: its names, and no app sidebar (the console's bar of places at
the top takes its role, and the fleet's lists get the whole width)."""
from django.contrib import admin

admin.site.site_header = "DAM hardware console"
admin.site.site_title = "DAM console"
admin.site.index_title = "Everything in the console"
admin.site.enable_nav_sidebar = False
