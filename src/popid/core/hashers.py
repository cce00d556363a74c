"""Password hashing: argon2id with OWASP's recommended parameters.

Django's own Argon2 defaults (100 MiB, 8 lanes, 2 passes) cost about half a second per hash on
a 2-vCPU machine and 100 MiB of memory per concurrent login. OWASP's Password Storage Cheat
Sheet recommends argon2id with m = 19 MiB, t = 2, p = 1 as the baseline, which keeps offline
guessing expensive while a national login service can serve many logins per core (measured in
BENCHMARKS.md §5). Hashes made with other parameters still verify and are re-hashed on the next
successful login (Django's ``must_update``).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
