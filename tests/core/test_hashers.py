"""The production password hasher, tested once with the real settings (the rest of the suite
hashes with MD5 through tests/conftest.py's ``fast_password_hasher``)."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    MD5PasswordHasher,
    check_password,
    get_hasher,
    identify_hasher,
    make_password,
)

from popid import settings as popid_settings
from popid.core.hashers import OwaspArgon2idHasher


def test_tests_hash_fast_but_production_uses_owasp_argon2id(settings):
    assert django_settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")  # the test override is active
    assert popid_settings.PASSWORD_HASHERS[0] == "popid.core.hashers.OwaspArgon2idHasher"


def test_real_argon2id_hashes_verify_and_old_parameters_are_upgraded(settings):
    settings.PASSWORD_HASHERS = list(popid_settings.PASSWORD_HASHERS)
    encoded = make_password("Mat-khau-that-2026")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), OwaspArgon2idHasher)
    assert check_password("Mat-khau-that-2026", encoded)
    assert not check_password("Mat-khau-that-2027", encoded)
    hasher = get_hasher("argon2")
    assert not hasher.must_update(encoded)
    # a hash made with Django's heavier defaults still verifies and is flagged for re-hashing
    old = Argon2PasswordHasher().encode("Mat-khau-that-2026", Argon2PasswordHasher().salt())
    assert check_password("Mat-khau-that-2026", old)
    assert hasher.must_update(old)
    # a hash from the fast test profile is never accepted with the production hashers
    md5 = MD5PasswordHasher().encode("Mat-khau-that-2026", MD5PasswordHasher().salt())
    assert not check_password("Mat-khau-that-2026", md5)
