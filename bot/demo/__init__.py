"""`signaldesk demo`: the whole desk offline, in about a minute (bot.demo.run), and talking to a demo left
running from another process (bot.demo.remote)."""
