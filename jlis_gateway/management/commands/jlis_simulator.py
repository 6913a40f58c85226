"""Drive the J-LIS simulator: python manage.py jlis_simulator <action> [options] (--help per action)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jlis_simulator.control import SimulatorControl, SimulatorError

ACTIONS: dict[str, str] = {
    "state": "what the simulator holds: counts, faults, settings",
    "reflect": "reflect pending consents (consent date today, or --day next)",
    "reject": "reject a pending consent with a reason",
    "move": "move a holder: old certificate revoked, new one issued with the new address",
    "rename": "change a holder's name: old certificate revoked, new one issued",
    "renew": "issue a new certificate with the same data",
    "expire": "let the holder's certificate expire (R11: nothing is sent after that)",
    "revoke": "revoke a consent through Mynaportal or JPKI Mobile",
    "register": "register a consent through Mynaportal (event with the certificate)",
    "generate": "write N latest_info events for load",
    "fault": "inject a fault (delay, error_5xx, truncated, malformed_body, malformed_event, duplicate, out_of_order)",
    "faults-clear": "remove every fault",
    "auto-reflect": "reflect each submission at once (on) or wait for reflect (off)",
    "reset": "forget everything",
    "card": "write the holder's current certificate and key (PEM) to a folder",
}


class Command(BaseCommand):
    help = "Drive the J-LIS simulator (development and tests only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="the simulator (default: JLIS_BASE_URL)")
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        sub = {name: actions.add_parser(name, help=text) for name, text in ACTIONS.items()}
        for name in ("move", "rename", "renew", "expire", "card"):
            sub[name].add_argument("--holder", type=int, required=True)
        sub["move"].add_argument("--address", required=True)
        sub["rename"].add_argument("--name", required=True, help="family and given name split by a full-width space")
        sub["card"].add_argument("--out", type=Path, required=True)
        sub["reflect"].add_argument("--consent", default="")
        sub["reflect"].add_argument("--day", choices=["today", "next"], default="today")
        sub["reject"].add_argument("--consent", required=True)
        sub["reject"].add_argument("--reason", required=True)
        sub["revoke"].add_argument("--holder", type=int)
        sub["revoke"].add_argument("--consent")
        sub["revoke"].add_argument("--channel", choices=["mynaportal", "jpki_mobile"], required=True)
        for option in ("--holder", "--name", "--address", "--birth-date"):
            sub["register"].add_argument(option, type=int if option == "--holder" else str)
        sub["register"].add_argument("--items", default="address,name,birth_date")
        sub["register"].add_argument("--day", choices=["today", "next"], default="today")
        sub["generate"].add_argument("--count", type=int, required=True)
        sub["generate"].add_argument("--holders", type=int)
        sub["generate"].add_argument("--items", default="address,name,birth_date")
        sub["generate"].add_argument("--seed", type=int, default=0)
        sub["generate"].add_argument("--holders-out", type=Path, help="write the generated holders here (JSON)")
        sub["fault"].add_argument("kind")
        sub["fault"].add_argument("--target", default="events", choices=["events", "submit", "revoke", "status"])
        sub["fault"].add_argument("--count", type=int)
        sub["fault"].add_argument("--probability", type=float)
        sub["fault"].add_argument("--delay", type=float)
        sub["auto-reflect"].add_argument("mode", choices=["on", "off"])
        sub["reset"].add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("the simulator is for development and tests only")
        control = SimulatorControl(options["url"] or settings.JLIS_BASE_URL)
        try:
            answer = self.run(control, options)
        except SimulatorError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))

    def run(self, control: SimulatorControl, o: dict[str, Any]) -> Any:
        action = o["action"]
        items = o.get("items", "").split(",") if o.get("items") else None
        if action == "state":
            return control.state()
        if action == "reflect":
            return control.reflect(consent_id=o["consent"], day=o["day"])
        if action == "reject":
            return control.reject(consent_id=o["consent"], reason=o["reason"])
        if action == "move":
            return control.move(holder=o["holder"], address=o["address"])
        if action == "rename":
            return control.rename(holder=o["holder"], name=o["name"])
        if action == "renew":
            return control.renew(holder=o["holder"])
        if action == "expire":
            return control.expire(holder=o["holder"])
        if action == "revoke":
            return control.revoke(channel=o["channel"], holder=o["holder"], consent_id=o["consent"])
        if action == "register":
            return control.register(
                items=items or [],
                holder=o["holder"],
                name=o["name"],
                address=o["address"],
                birth_date=o["birth_date"],
                day=o["day"],
            )
        if action == "generate":
            answer = control.generate(count=o["count"], holders=o["holders"], items=items, seed=o["seed"])
            if o["holders_out"]:
                o["holders_out"].write_text(json.dumps(answer["holders"], ensure_ascii=False))
            answer["holders"] = len(answer["holders"])
            return answer
        if action == "fault":
            return control.fault(
                o["kind"], target=o["target"], count=o["count"], probability=o["probability"], delay=o["delay"]
            )
        if action == "faults-clear":
            return control.faults_clear()
        if action == "auto-reflect":
            return control.settings(auto_reflect="now" if o["mode"] == "on" else "off")
        if action == "reset":
            return control.reset(seed=o["seed"])
        card = control.card(o["holder"])
        o["out"].mkdir(parents=True, exist_ok=True)
        (o["out"] / "certificate.pem").write_text(card["certificate_pem"])
        (o["out"] / "key.pem").write_text(card["key_pem"])
        (o["out"] / "key.pem").chmod(0o600)
        return {"holder": card["holder"], "serial": card["serial"], "written": str(o["out"])}
