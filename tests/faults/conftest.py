from tests.faults.served import bot, served_bot

__all__ = ["bot", "served_bot"]
