"""Secrets handed to callers (API tokens, login links, session ids): made random, kept only as hashes.

Each secret is 32 random bytes (256 bits) from :mod:`secrets`. Because it is that long and random, a
single SHA-256 is the right hash at rest (as GitHub and PyPI do for their tokens): nobody can guess or
brute-force it, and a lookup is one indexed equality. A slow password hash (argon2, scrypt) defends
low-entropy secrets chosen by people, which this service never has: it has no passwords.

API tokens read ``dfl_<id>_<secret>``: the id names the token in lists and audit records without being
secret, and the prefix lets secret scanners recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "dfl_"
_TOKEN = re.compile(r"^dfl_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def new_secret() -> str:
    """43 URL-safe characters of 256 random bits."""
    return secrets.token_urlsafe(32)


def new_id() -> str:
    """A short random id (12 lower-case letters and digits): for rows that others refer to."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def token_text(token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def parse_token(text: str) -> tuple[str, str] | None:
    """(id, secret) of an API token's text, or None if it is not shaped like one."""
    match = _TOKEN.match(text.strip())
    return (match.group(1), match.group(2)) if match else None
