"""The IPC benchmark suite: pywebview's js_api, a bare WebSocket echo and the shell, side by side.

``python -m benchmarks`` runs it (see ``benchmarks/README.md``).
"""
