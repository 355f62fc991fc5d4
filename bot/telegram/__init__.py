"""The Telegram side of the desk: aiogram routers, rendering, and the one outgoing sender."""
