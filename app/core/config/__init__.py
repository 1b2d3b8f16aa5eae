"""``app.conf.json``: pydantic models, loading, and problems reported as JSON paths.

Paths inside the file are relative to the folder that holds it. Capabilities are either inline
objects or names of files ``capabilities/<identifier>.json`` beside the config; with no
``capabilities`` key at all, every file in ``capabilities/`` is used.

::

    model.py     the pydantic models, and ``Config``: a loaded configuration
    load.py      reading the file and its capability files; every problem at once
    problems.py  pydantic's errors as JSON paths and sentences
"""

from .load import load_config, window_config
from .model import (
    HEADER_NAME_PATTERN,
    ISOLATION_MIN_MESSAGE_BYTES,
    LABEL_PATTERN,
    OWN_HEADERS,
    AppConfig,
    CapabilitySource,
    Config,
    IsolationOptions,
    IsolationPattern,
    WindowConfig,
    page_path,
)
from .problems import json_path

__all__ = [
    "HEADER_NAME_PATTERN",
    "ISOLATION_MIN_MESSAGE_BYTES",
    "LABEL_PATTERN",
    "OWN_HEADERS",
    "AppConfig",
    "CapabilitySource",
    "Config",
    "IsolationOptions",
    "IsolationPattern",
    "WindowConfig",
    "json_path",
    "load_config",
    "page_path",
    "window_config",
]
