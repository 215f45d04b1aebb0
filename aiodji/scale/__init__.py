"""Scale out: a per-organization rate budget shared in Redis, and fleet shards on Taskiq.

Optional extra ``aiodji[scale]`` (taskiq, taskiq-redis, redis); nothing here is imported by
``import aiodji``. ``aiodji.RedisRateLimit`` is resolved lazily from :mod:`.redis_limiter`.
"""

from __future__ import annotations

from .budget_key import budget_key
from .redis_limiter import RedisLimiter, RedisRateLimit

__all__ = ["RedisLimiter", "RedisRateLimit", "budget_key"]
