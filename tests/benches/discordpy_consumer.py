"""A minimal discord.py client consuming the fake gateway, for a side-by-side comparison with
`steward gateway` in benches/gateway.rs. Counts MESSAGE_CREATE events and applies the same kind
of filter (skip bots, look for a mention of itself). Loopback only.

Environment: STEWARD_FAKE_API (http://127.0.0.1:PORT/api/v10), STEWARD_FAKE_GATEWAY
(ws://127.0.0.1:PORT), EVENTS (how many to wait for).
Prints "ready" once connected, then "done <count>" when every event arrived.
"""

import os
import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

Route.BASE = os.environ["STEWARD_FAKE_API"]
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["STEWARD_FAKE_GATEWAY"] + "/")
EXPECTED = int(os.environ["EVENTS"])

intents = discord.Intents.none()
intents.guilds = True
intents.guild_messages = True
intents.message_content = True


class Consumer(discord.Client):
    def __init__(self):
        super().__init__(intents=intents, max_messages=None, chunk_guilds_at_startup=False)
        self.count = 0
        self.mentions = 0

    async def on_connect(self):
        print("ready", flush=True)

    async def on_message(self, message):
        self.count += 1
        if not message.author.bot and self.user in message.mentions:
            self.mentions += 1
        if self.count >= EXPECTED:
            print(f"done {self.count} {self.mentions}", flush=True)
            await self.close()


Consumer().run("fake-bot-token", log_handler=None)
sys.exit(0)
