"""A dev server as Vite behaves where it matters to the relay: run as ``python dev_server.py
PORT LOG``. A stylesheet comes as CSS only to a request that accepts text/css (as JS
otherwise); ``POST /api/echo`` answers its body; ``/redirect?to=URL`` redirects there;
``/headers`` answers with headers that act for an origin; ``POST /form`` answers HTML with a
201; ``/login?as=NAME`` sets a cookie, ``/whoami`` answers the cookies it was sent; ``/stream``
sends an event and never ends; ``/partial`` breaks off; ``/hang`` never answers. Every
request's method, path and headers go to LOG, one JSON line each."""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

PAGE = """<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head>
<body><h1 id="title">dev</h1></body></html>"""


async def handle(request: web.Request) -> web.StreamResponse:
    with open(sys.argv[2], "a") as log:
        log.write(json.dumps({"method": request.method, "path": request.path_qs,
                              "headers": dict(request.headers)}) + "\n")
    if request.path == "/api/echo" and request.method == "POST":
        return web.Response(text=(await request.read()).decode())
    if request.path == "/redirect":
        raise web.HTTPFound(request.query["to"])
    if request.path == "/headers":
        return web.Response(text="{}", content_type="application/json", headers={
            "ETag": '"v1"', "Cache-Control": "max-age=5", "Clear-Site-Data": '"storage"',
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true",
            "Refresh": "0; url=https://example.com/", "Service-Worker-Allowed": "/",
            "Content-Security-Policy-Report-Only": "default-src 'none'",
            "X-Content-Type-Options": "sniff", "Set-Cookie": "dev=1",
        })
    if request.path == "/broken":  # a build error's page, as dev servers show one
        return web.Response(status=500, text=PAGE, content_type="text/html")
    if request.path == "/style.xsl":
        return web.Response(text="<xsl:stylesheet/>", content_type="text/xsl")
    if request.path == "/bad-redirect":
        return web.Response(status=302, headers={"Location": "http://[::1/"})
    if request.path == "/form" and request.method == "POST":
        return web.Response(status=201, text=PAGE, content_type="text/html")
    if request.path == "/login":
        response = web.Response(text="in")
        response.set_cookie("backend", request.query["as"])
        return response
    if request.path == "/whoami":
        return web.Response(text=request.headers.get("Cookie", "no cookie"))
    if request.path == "/stream":
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        await stream.write(b"data: 1\n\n")
        await asyncio.Event().wait()
    if request.path == "/partial":  # says 1000 bytes, sends 600 and closes
        partial = web.StreamResponse(headers={"Content-Type": "text/javascript",
                                              "Content-Length": "1000"})
        await partial.prepare(request)
        await partial.write(b"/" * 600)
        assert request.transport is not None
        request.transport.close()
        return partial
    if request.path == "/hang":
        await asyncio.Event().wait()
    if request.path == "/style.css":
        if "text/css" in request.headers.get("Accept", ""):
            return web.Response(text="#title { color: rgb(255, 0, 0); }", content_type="text/css")
        return web.Response(text="export default {};", content_type="text/javascript")
    return web.Response(text=PAGE, content_type="text/html")


app = web.Application(client_max_size=2**30)  # (as Vite's: no limit of its own)
app.router.add_route("*", "/{path:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, shutdown_timeout=0.5)
