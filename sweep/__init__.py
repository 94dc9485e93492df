"""Batch work beside the Slack listeners: the licence alert sweep (`altegio-bot alerts`).

Not a listener: it runs from cron or a clock process, over the same store, Altegio client and
alert builders (handlers/alerts/messages.py) as the bot. Depends on handlers/ and api/, never on
bot/.
"""
