"""The Admin API client: typed operations over one pooled, retrying HTTP session."""

from __future__ import annotations

from ._http import DECIDING_AGE, READ_TTL, USER_AGENT
from .api import AdminClient, shared_client

__all__ = ["DECIDING_AGE", "READ_TTL", "USER_AGENT", "AdminClient", "shared_client"]
