"""Limit/offset pages with bounds stated in the schema, not silently clamped."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 200
# Far beyond any real list, and well inside the 64-bit OFFSET both databases accept: ninja's
# default is unbounded, and an offset of 10**20 made SQLite fail the query ("datatype mismatch"),
# a 500 instead of a 422.
MAX_OFFSET = 1_000_000_000


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class Pagination(LimitOffsetPagination):
    # A class of its own (not a nested `Input`) so the OpenAPI component has a telling name.
    Input = PageParams  # type: ignore[assignment]
