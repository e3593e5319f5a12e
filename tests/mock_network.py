"""A Network whose two libraries answer from a function instead of a server: for hostile
answers in bulk (fuzzing), where a loopback server per example would be too slow."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import requests
import urllib3

from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan

Reply = tuple[int, Mapping[str, str], bytes]
Handler = Callable[[str], Reply]


class _Adapter(requests.adapters.HTTPAdapter):
    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        status, headers, body = self.handler(str(request.url))
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers=dict(headers),
            status=status,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def mock_network(handler: Handler, plan: NetworkPlan | None = None) -> Network:
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _Adapter(handler))

    def reply(request: httpx.Request) -> httpx.Response:
        status, headers, body = handler(str(request.url))
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]  # UTF-8 on the wire
        return httpx.Response(status, headers=raw, stream=httpx.ByteStream(body))

    client = httpx.Client(transport=httpx.MockTransport(reply), follow_redirects=True)
    return Network(plan or NetworkPlan(), sleep=lambda _s: None, session=session, client=client)
