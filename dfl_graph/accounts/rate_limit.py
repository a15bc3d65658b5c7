"""Rate limits on sign-in, shared by every web worker through the accounts database.

gunicorn runs several worker processes, so a limit counted in one process's memory would let an attacker
try ``workers`` times as often. The hits are rows of the accounts database instead (a sliding window per
bucket and key); old rows are deleted as new ones arrive. Sign-in is rare enough that this costs nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from dfl_graph.accounts.database import AccountsDatabase


@dataclass(frozen=True)
class Limit:
    bucket: str  # what is limited, e.g. "login-link-email"
    count: int  # at most this many hits ...
    seconds: int  # ... in any window of this length


# Sign-in links per e-mail address; sign-in attempts per client address (Settings.login_attempts_per_client).
LOGIN_LINK_PER_EMAIL = Limit("login-link-email", 5, 15 * 60)


def login_per_client(count: int) -> Limit:
    return Limit("login-client", count, 15 * 60)


def hit(database: AccountsDatabase, limit: Limit, key: str) -> int | None:
    """Count one attempt; None if it is allowed, else the seconds until the next one would be."""
    moment = time.time()
    since = moment - limit.seconds
    with database.transaction() as db:
        db.execute("DELETE FROM rate_hits WHERE bucket = ? AND key = ? AND at <= ?", (limit.bucket, key, since))
        row = db.execute(
            "SELECT COUNT(*), MIN(at) FROM rate_hits WHERE bucket = ? AND key = ?", (limit.bucket, key)
        ).fetchone()
        if row[0] >= limit.count:
            return max(1, math.ceil(row[1] + limit.seconds - moment))
        db.execute("INSERT INTO rate_hits (bucket, key, at) VALUES (?, ?, ?)", (limit.bucket, key, moment))
    return None
