"""Celery tasks that deliver notifications (queue ``notifications``).

Email and webhook delivery arrive with the alerts work; until they are real, no task is
registered here, so nothing pretends to deliver.
"""
