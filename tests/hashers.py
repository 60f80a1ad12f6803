"""The tests' password hasher: Django's own PBKDF2-SHA256, at one iteration instead of Django's 1,000,000.

Every login, every wrong password and every user made with a password (pytest-django's admin_client, the lockout and
second-factor tests, the browser tests) costs a full PBKDF2 otherwise, about half a second of a core each: minutes of
the suite on this 2-core machine. The algorithm and the stored format are the real ones (`pbkdf2_sha256$1$…`), so a
DAM web process a test starts, with the default hashers, checks these passwords too (PBKDF2 reads the iteration
count from the hash). What the tests judge (lockout, second factor, roles) does not depend on the iteration count.
"""
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
