"""django-tasks-db's task results in the admin, with what the job runner adds: tries, progress
and lease."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from twoway.jobs.models import ChoreRun, JobState

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    list_display = (  # type: ignore[assignment]
        "id",
        "task_name",
        "status",
        "attempts",
        "progress",
        "enqueued_at",
        "started_at",
        "finished_at",
        "display_run_after",
        "queue_name",
    )
    search_fields = ("task_path",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("job")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "attempts", "progress", "lease"]

    @staticmethod
    def _state(obj: DBTaskResult) -> JobState | None:
        try:
            return obj.job  # type: ignore[attr-defined, no-any-return]
        except JobState.DoesNotExist:
            return None

    @admin.display(description="tries")
    def attempts(self, obj: DBTaskResult) -> int:
        state = self._state(obj)
        return state.attempts if state else 0

    @admin.display(description="progress")
    def progress(self, obj: DBTaskResult) -> str:
        state = self._state(obj)
        return (state.progress if state else "") or "-"

    @admin.display(description="lease")
    def lease(self, obj: DBTaskResult) -> str:
        state = self._state(obj)
        if state is None or state.lease_until is None:
            return "-"
        return f"{state.lease_owner} until {state.lease_until:%Y-%m-%d %H:%M:%S}"


@admin.register(ChoreRun)
class ChoreRunAdmin(admin.ModelAdmin):
    list_display = ("chore", "slot", "enqueued_at")
    list_filter = ("chore",)
    ordering = ["-slot"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
