"""Every URL pattern of the project, with a concrete URL built from real objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class UrlEntry:
    key: str  # the pattern's name with its namespace, or its route when it has none
    route: str
    params: tuple[str, ...]
    callback: Callable[..., Any]
    named: bool

    @property
    def model(self) -> Any:
        """The model of an admin model view (Django sets model_admin on those views)."""
        model_admin = getattr(self.callback, "model_admin", None)
        return model_admin.model if model_admin is not None else None


def _params(pattern: Any) -> tuple[str, ...]:
    if isinstance(pattern, RoutePattern):
        return tuple(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return tuple(pattern.regex.groupindex)
    return ()


def _walk(patterns: list[Any], prefix: str, namespace: str, params: tuple[str, ...]) -> Iterator[UrlEntry]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        found = params + _params(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from _walk(pattern.url_patterns, route, inner, found)
        elif isinstance(pattern, URLPattern):
            key = ":".join(n for n in (namespace, pattern.name) if n) if pattern.name else route or "/"
            yield UrlEntry(key, route, found, pattern.callback, bool(pattern.name))


def url_entries() -> list[UrlEntry]:
    return list(_walk(get_resolver().url_patterns, "", "", ()))


def url_for(entry: UrlEntry, args: dict[str, Any]) -> str:
    """A concrete URL for the entry; `args` gives a value per parameter name (or per URL name and
    parameter name, `args[(key, name)]`), or per model for admin object ids (`args[model]`)."""
    kwargs = {}
    for name in entry.params:
        if name == "object_id" and entry.model is not None:
            kwargs[name] = args[entry.model].pk
        else:  # a URL may need its own row (a revoked consent for its slip)
            kwargs[name] = args.get((entry.key, name), args[name])
    if entry.named:
        return reverse(entry.key, kwargs=kwargs)
    if entry.key == "/":
        return "/"
    if entry.key.endswith("<path:object_id>/"):  # the admin's unnamed redirect to a row's change page
        return "/" + entry.route.replace("<path:object_id>", str(kwargs["object_id"]))
    if entry.key == "admin/(?P<url>.*)$":
        return "/admin/" + kwargs["url"]
    raise AssertionError(f"no way to build a URL for the unnamed pattern {entry.key!r}: add one here")
