#!/usr/bin/env python3
"""Writes discord-openapi.subset.json: the operations Steward's Discord tests check, and every
component they reference, cut unchanged from Discord's OpenAPI description (see SOURCE.md).

    python3 tests/spec/extract.py path/to/discord-openapi.json
"""
import json
import pathlib
import re
import sys

# (path template, method): the routes whose traffic tests/src/openapi.rs checks.
OPERATIONS = [
    ("/channels/{channel_id}/messages", "post"),
    ("/channels/{channel_id}/messages/{message_id}", "delete"),
    ("/users/@me/channels", "post"),
    ("/guilds/{guild_id}", "get"),
    ("/guilds/{guild_id}/members/{user_id}", "get"),
    ("/guilds/{guild_id}/members/{user_id}", "patch"),
    ("/guilds/{guild_id}/members/{user_id}", "delete"),
    ("/guilds/{guild_id}/bans/{user_id}", "put"),
    ("/guilds/{guild_id}/bans/{user_id}", "delete"),
    ("/invites/{code}", "get"),
]

spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
subset = {key: spec[key] for key in ("openapi", "info", "servers")}
subset["paths"] = {}
for path, method in OPERATIONS:
    subset["paths"].setdefault(path, {})[method] = spec["paths"][path][method]

components, pending = {}, [subset["paths"]]
while pending:
    for ref in re.findall(r'"\$ref": "#/components/([^/"]+)/([^"]+)"', json.dumps(pending.pop())):
        kind, name = ref
        if name not in components.setdefault(kind, {}):
            components[kind][name] = spec["components"][kind][name]
            pending.append(components[kind][name])
subset["components"] = {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())}

out = pathlib.Path(__file__).with_name("discord-openapi.subset.json")
out.write_text(json.dumps(subset, indent=1, ensure_ascii=False) + "\n")
print(f"{out}: {len(OPERATIONS)} operations, {sum(map(len, components.values()))} components")
