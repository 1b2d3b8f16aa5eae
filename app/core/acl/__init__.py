"""Capabilities: who (window label and origin) may call what, and with which scope.

::

    model.py        the capability objects of app.conf.json and capabilities/*.json
    permissions.py  permission identifiers (allow-/deny- per command, core:event:*) and sets
    glob.py         window-label and path globs;  urls.py  remote.urls patterns
    compiled.py     capabilities compiled once;   context.py  what one caller may do
    authority.py    the decision on every request; explain.py  why a request was denied
    scope.py        the scope injected into commands (path checks)
    origin.py       who sent a request: window label and origin
"""
