from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of a background component (worker, beat)."""

    component = models.CharField(max_length=20, primary_key=True)
    last_seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.component} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
