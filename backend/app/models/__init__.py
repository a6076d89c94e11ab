"""The ORM models, one module per area. ``app.models.every`` imports them all."""
