"""Photos shared in channels become team members' or services' images in Altegio.

A JPEG or PNG shared with a caption such as `master 17 location 4523464` (grammar in
caption.py) is uploaded on the sharer's own Altegio account; the bot answers in the thread
and reacts to the share.
"""

from slack_bolt.async_app import AsyncApp

from handlers.errors import guarded
from handlers.images.messages import RETRY_ACTION
from handlers.images.share import ImageShares, ignore


def register(app: AsyncApp) -> None:
    shares = ImageShares()
    app.event({"type": "message", "subtype": "file_share"})(guarded(shares.on_file_share))
    # Bolt runs the first listener that matches: this catch-all acknowledges every other
    # message event (plain messages, edits, the bot's own replies) so none is reported as
    # unhandled. A feature that listens to other messages must register before this one.
    app.event("message")(guarded(ignore))
    # Sent beside the message event for every share; it carries no caption, and the message
    # event (which does) handles the file, so it only needs acknowledging.
    app.event("file_shared")(guarded(ignore))
    app.action(RETRY_ACTION)(guarded(shares.on_retry))
