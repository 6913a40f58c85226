"""The simulator's page: what J-LIS knows, and forms for every action (no JavaScript)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from .feed import KINDS, TARGETS
from .store import Store


def state(store: Store) -> dict[str, Any]:
    db = store.read()
    count = db.execute("SELECT COUNT(*), COALESCE(MAX(position), 0) FROM event").fetchone()
    return {
        "events": count[0],
        "last_position": count[1],
        "corrupt_events": db.execute("SELECT COUNT(*) FROM event WHERE corrupt IS NOT NULL").fetchone()[0],
        "holders": db.execute("SELECT COUNT(*) FROM holder").fetchone()[0],
        "consents": dict(db.execute("SELECT status, COUNT(*) FROM consent GROUP BY status").fetchall()),
        "requests": db.execute("SELECT COUNT(*) FROM request_log").fetchone()[0],
        "auto_reflect": store.setting(db, "auto_reflect", "off"),
        "faults": [dict(row) for row in db.execute("SELECT * FROM fault ORDER BY id").fetchall()],
    }


def _form(action: str, title: str, fields: str, button: str) -> str:
    return (
        f'<form method="post" action="/control/{action}"><fieldset><legend>{escape(title)}</legend>'
        f'{fields}<button type="submit">{escape(button)}</button></fieldset></form>'
    )


def _input(name: str, label: str, value: str = "", kind: str = "text") -> str:
    return (
        f'<label for="f-{name}-{label}">{escape(label)}</label> '
        f'<input id="f-{name}-{label}" name="{name}" type="{kind}" value="{escape(value)}"> '
    )


def _select(name: str, label: str, options: tuple[str, ...] | list[str]) -> str:
    choices = "".join(f"<option>{escape(o)}</option>" for o in options)
    field_id = f"s-{name}-{label}"
    return f'<label for="{field_id}">{escape(label)}</label> <select id="{field_id}" name="{name}">{choices}</select> '


def _items() -> str:
    return "".join(
        f'<label><input type="checkbox" name="items" value="{i}" checked> {i}</label> '
        for i in ("address", "name", "birth_date")
    )


def render(store: Store, message: str) -> bytes:
    db = store.read()
    summary = state(store)
    holders = db.execute("SELECT * FROM holder WHERE synthetic = 0 ORDER BY id DESC LIMIT 50").fetchall()
    consents = db.execute("SELECT * FROM consent WHERE reference NOT LIKE 'G%' ORDER BY rowid DESC LIMIT 50").fetchall()
    events = db.execute("SELECT * FROM event ORDER BY position DESC LIMIT 20").fetchall()
    rows_h = "".join(
        f"<tr><td>{h['id']}</td><td>{escape(h['name'])}</td><td>{escape(h['address'])}</td><td>{h['birth_date']}</td>"
        f"<td>{h['current_serial']}</td><td>{'stopped (expired)' if h['feed_stopped'] else 'on'}</td></tr>"
        for h in holders
    )
    rows_c = "".join(
        f"<tr><td>{c['id']}</td><td>{escape(c['reference'])}</td><td>{c['holder_id']}</td>"
        f"<td>{escape(', '.join(json.loads(c['items'])))}</td><td>{c['channel']}</td><td>{c['status']}</td>"
        f"<td>{c['consent_date'] or ''}</td><td>{escape(c['problem'] or c['rejected_reason'] or '')}</td></tr>"
        for c in consents
    )
    rows_e = "".join(
        f"<tr><td>{e['position']}</td><td>{e['id']}</td><td>{e['kind']}</td><td>{e['holder_id']}</td>"
        f"<td>{e['holder_seq']}</td><td>{e['serial']}</td><td>{escape(e['corrupt'] or '')}</td></tr>"
        for e in events
    )
    faults = "".join(f"<li>{escape(json.dumps(f))}</li>" for f in summary["faults"]) or "<li>none</li>"
    forms = "".join(
        [
            _form(
                "reflect",
                "Reflect pending consents",
                _input("consent_id", "consent id (empty: all)") + _select("day", "consent date", ["today", "next"]),
                "Reflect",
            ),
            _form(
                "reject",
                "Reject a pending consent",
                _input("consent_id", "consent id") + _input("reason", "reason"),
                "Reject",
            ),
            _form(
                "move",
                "Move a holder (new certificate, new serial)",
                _input("holder", "holder") + _input("address", "new address"),
                "Move",
            ),
            _form(
                "rename", "Change a holder's name", _input("holder", "holder") + _input("name", "new name"), "Rename"
            ),
            _form("expire", "Let the holder's certificate expire (R11)", _input("holder", "holder"), "Expire"),
            _form("renew", "Issue a new certificate (same data)", _input("holder", "holder"), "Renew"),
            _form(
                "revoke",
                "Revoke a consent elsewhere",
                _input("holder", "holder")
                + _input("consent_id", "or consent id")
                + _select("channel", "channel", ["mynaportal", "jpki_mobile"]),
                "Revoke",
            ),
            _form(
                "register",
                "Register a consent through Mynaportal",
                _input("holder", "holder (or the three below)")
                + _input("name", "name")
                + _input("address", "address")
                + _input("birth_date", "birth date", "", "date")
                + _items(),
                "Register",
            ),
            _form(
                "generate",
                "Generate load (latest_info events)",
                _input("count", "events", "1000", "number") + _input("holders", "holders", "", "number"),
                "Generate",
            ),
            _form(
                "faults",
                "Inject a fault",
                _select("target", "target", TARGETS)
                + _select("kind", "kind", KINDS)
                + _input("count", "times")
                + _input("probability", "or probability")
                + _input("delay", "delay (s)"),
                "Add",
            ),
            _form("faults_clear", "Clear faults", "", "Clear"),
            _form("settings", "Settings", _select("auto_reflect", "reflect on submission", ["off", "now"]), "Save"),
        ]
    )
    note = f'<p role="status"><strong>{escape(message)}</strong></p>' if message else ""
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>J-LIS simulator</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2rem .4rem}}fieldset{{margin:.4rem 0}}</style></head><body>
<h1>J-LIS simulator</h1>{note}
<p>A test double of J-LIS for development and tests, never for production. Events: {summary["events"]}
(malformed: {summary["corrupt_events"]}); holders: {summary["holders"]}; requests received: {summary["requests"]};
reflect on submission: {summary["auto_reflect"]}.</p>
<h2>Faults</h2><ul>{faults}</ul>
<h2>Actions</h2>{forms}
<h2>Holders (newest 50, generated ones left out)</h2><table><tr><th>holder</th><th>name</th><th>address</th>
<th>birth date</th><th>serial</th><th>feed</th></tr>{rows_h}</table>
<h2>Consents (newest 50)</h2><table><tr><th>id</th><th>reference</th><th>holder</th><th>items</th><th>channel</th>
<th>status</th><th>consent date</th><th>problem</th></tr>{rows_c}</table>
<h2>Latest events</h2><table><tr><th>position</th><th>id</th><th>kind</th><th>holder</th><th>seq</th><th>serial</th>
<th>malformed</th></tr>{rows_e}</table></body></html>"""
    return html.encode()
