"""``GET /compute/v2.1/os-aggregates``: Cumulo has no host aggregates (every compute
host is in the one default zone), so the list is empty. It exists because
``openstack hypervisor show`` lists aggregates to say which ones a host is in."""

from __future__ import annotations

import falcon

from ..state import ApiState
from .common import project_token


class Aggregates:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-aggregates:index", token)
        resp.media = {"aggregates": []}
