"""Per-key request budgets in fixed windows.

NOTE: the counters live in this process's memory, so with several server
processes each one grants the full budget: the effective limit is the budget
times the number of processes.
"""

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["retry-after"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    """Counts requests per key in windows of window_seconds; limit 0 disables it."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._windows: dict[str, tuple[int, int]] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def hit(self, key_id: str, now: float | None = None) -> RateDecision:
        now = time.monotonic() if now is None else now
        window = int(now // self.window_seconds)
        started, used = self._windows.get(key_id, (window, 0))
        if started != window:
            started, used = window, 0
            if len(self._windows) > 100_000:
                self._windows.clear()

        allowed = used < self.limit
        if allowed:
            used += 1
        self._windows[key_id] = (started, used)
        reset = math.ceil((window + 1) * self.window_seconds - now)
        return RateDecision(allowed, self.limit, self.limit - used, max(reset, 1))
