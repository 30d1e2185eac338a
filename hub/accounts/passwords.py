"""Password hashing with argon2id (OWASP's first choice), parameters from argon2-cffi's
RFC 9106 low-memory profile."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 12  # NIST SP 800-63B: long passphrases over composition rules


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Compared against when the e-mail matches no account, so that the time taken does not tell
# an attacker which addresses exist.
DUMMY_HASH = _hasher.hash("no account has this password")


# Recovery codes carry about 60 bits of randomness each, so OWASP's minimum argon2id profile
# (19 MiB, 2 passes) is ample, and checking one against ten stored hashes stays quick.
_code_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_recovery_code(code: str) -> str:
    return _code_hasher.hash(code)


def verify_recovery_code(code_hash: str, code: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        return False
