"""Driving the simulator from outside (the management command, tests, benchmarks)."""

from __future__ import annotations

from typing import Any

import requests


class SimulatorError(RuntimeError):
    pass


class SimulatorControl:
    """Calls the simulator's control endpoints. Each action returns the simulator's JSON answer."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _post(self, action: str, **data: Any) -> dict[str, Any]:
        body = {key: value for key, value in data.items() if value is not None}
        return self._answer(self.session.post(f"{self.base_url}/control/{action}", json=body, timeout=self.timeout))

    def _get(self, path: str) -> dict[str, Any]:
        return self._answer(self.session.get(f"{self.base_url}{path}", timeout=self.timeout))

    @staticmethod
    def _answer(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        if response.status_code >= 300:
            raise SimulatorError(f"{response.status_code} {body.get('code', '')}: {body.get('message', '')}")
        return body

    # the world
    def reset(self, seed: int = 0) -> dict[str, Any]:
        return self._post("reset", seed=seed)

    def settings(self, *, auto_reflect: str | None = None, seed: int | None = None) -> dict[str, Any]:
        return self._post("settings", auto_reflect=auto_reflect, seed=seed)

    def reflect(self, *, consent_id: str = "", day: str = "today") -> dict[str, Any]:
        return self._post("reflect", consent_id=consent_id, day=day)

    def reject(self, *, consent_id: str, reason: str) -> dict[str, Any]:
        return self._post("reject", consent_id=consent_id, reason=reason)

    def move(self, *, holder: int, address: str) -> dict[str, Any]:
        return self._post("move", holder=holder, address=address)

    def rename(self, *, holder: int, name: str) -> dict[str, Any]:
        return self._post("rename", holder=holder, name=name)

    def renew(self, *, holder: int) -> dict[str, Any]:
        return self._post("renew", holder=holder)

    def expire(self, *, holder: int) -> dict[str, Any]:
        return self._post("expire", holder=holder)

    def revoke(self, *, channel: str, holder: int | None = None, consent_id: str | None = None) -> dict[str, Any]:
        return self._post("revoke", channel=channel, holder=holder, consent_id=consent_id)

    def register(
        self,
        *,
        items: list[str],
        holder: int | None = None,
        name: str | None = None,
        address: str | None = None,
        birth_date: str | None = None,
        day: str = "today",
    ) -> dict[str, Any]:
        return self._post(
            "register", items=items, holder=holder, name=name, address=address, birth_date=birth_date, day=day
        )

    def generate(
        self, *, count: int, holders: int | None = None, items: list[str] | None = None, seed: int = 0
    ) -> dict[str, Any]:
        return self._post("generate", count=count, holders=holders, items=items, seed=seed)

    # faults
    def fault(
        self,
        kind: str,
        *,
        target: str = "events",
        count: int | None = None,
        probability: float | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        if count is None and probability is None:
            count = 1
        return self._post("faults", target=target, kind=kind, count=count, probability=probability, delay=delay)

    def repair(self, *, event_id: str) -> dict[str, Any]:
        return self._post("repair", event_id=event_id)

    def faults_clear(self) -> dict[str, Any]:
        return self._post("faults_clear")

    # reading
    def state(self) -> dict[str, Any]:
        return self._get("/control/state")

    def requests(self) -> list[dict[str, Any]]:
        return self._get("/control/requests")["requests"]

    def events(self) -> dict[str, Any]:
        return self._get("/control/events")

    def card(self, holder: int) -> dict[str, Any]:
        return self._get(f"/control/holders/{holder}/card")
