"""The fallback fixed-reply server (when nginx is not installed): answers every request with the
converter PUT's documented reply, ``{"code": 0, "message": "OK"}``.

``python -m benchmarks.fixed_app --port N``; prints ``ready`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from aiohttp import web

REPLY = b'{"code":0,"message":"OK"}'


async def _reply(request: web.Request) -> web.Response:
    await request.read()  # drain the body like a real server
    return web.Response(body=REPLY, content_type="application/json")


async def _serve(port: int) -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _reply)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is in the bench extra
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
