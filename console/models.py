"""The console owns no table: it reads and acts through the other apps. (This module makes Django send the
console its post_migrate signal, which keeps the staff groups whole.)"""
