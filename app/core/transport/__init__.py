"""The windows' transport: loopback HTTP and WebSocket listeners, and what guards them.

::

    server.py       the windows' listeners: launch URLs, pages and files, the API's modules
    session.py      one page's WebSocket: frames of requests in, replies and events out
    backlog.py      what waits for a page that reads slowly, and the limits on it
    handover.py     large frames to the page over HTTP instead of the WebSocket
    credentials.py  launch tokens, session cookies, tickets, tab and window secrets
    loopback.py     what every listener shares: the address, its sockets, refusals
    csp.py          the pages' Content-Security-Policy
    devproxy.py     build.devUrl: the window's pages relayed from a dev server
"""
