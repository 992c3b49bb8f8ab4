"""What the job runner keeps beside django-tasks-db's task results: leases, tries, progress."""

from __future__ import annotations

from django.db import models


class JobState(models.Model):
    """The runner's side of one task result: who holds it and until when, how many tries it
    had, and how far the running try is.

    A runner holding a job renews `lease_until` while it runs; a lease that ran out (its runner
    was killed, its machine lost) lets another runner take the job over. `attempts` counts the
    tries that started, a stop asked for (SIGTERM) not included.
    """

    result = models.OneToOneField(
        "django_tasks_database.DBTaskResult",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="job",
    )
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The leased ones only: the search for runners that died reads just these.
            models.Index(
                fields=["lease_until"],
                condition=models.Q(lease_until__isnull=False),
                name="jobs_state_leased_idx",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.pk}"

    @property
    def progress(self) -> str:
        """'3 of 10 (30%): Importing contacts', as far as the job said."""
        if self.progress_total:
            percent = min(100, 100 * self.progress_done // self.progress_total)
            text = f"{self.progress_done:,} of {self.progress_total:,} ({percent}%)"
        elif self.progress_done:
            text = f"{self.progress_done:,} done"
        else:
            text = ""
        if self.progress_message:
            text = f"{text}: {self.progress_message}" if text else self.progress_message
        return text


class ChoreRun(models.Model):
    """A periodic chore enqueued for one period (`slot`, its start): the unique key lets one
    runner, and only one, enqueue it however many runners look at the same moment."""

    chore = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chore", "slot"], name="jobs_chore_run_unique")
        ]

    def __str__(self) -> str:
        return f"{self.chore} {self.slot:%Y-%m-%d %H:%M:%S}"
