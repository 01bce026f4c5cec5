"""Structured logs: one JSON object per line, carrying the Celery task id and name when inside a task."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class TaskContextFilter(logging.Filter):
    """Adds task_id / task_name to every record emitted while a Celery task runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from celery import current_task
        except ImportError:  # pragma: no cover - celery is a dependency
            current_task = None
        task = current_task if current_task and current_task.request.id else None
        record.task_id = getattr(task.request, "id", None) if task else None
        record.task_name = getattr(task, "name", None) if task else None
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("task_id", "task_name"):
            value = getattr(record, key, None)
            if value:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)
