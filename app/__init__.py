"""A Python desktop app shell, and its demo app (``app.demo``)."""
