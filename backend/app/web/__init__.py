"""The dashboard: server-rendered pages (Jinja2), no JavaScript, no build step."""
