"""Photos shared in channels become team members' or services' images in Altegio.

A JPEG or PNG shared with a caption such as `master 17 location 4523464` (grammar in
caption.py) is uploaded on the sharer's own Altegio account; the bot answers in the thread
and reacts to the share.
"""

from handlers.images.messages import RETRY_ACTION
from handlers.images.share import ImageShares, ignore
from handlers.registry import Listeners


def register(listeners: Listeners) -> None:
    shares = ImageShares()
    listeners.close_with(shares.downloader.aclose)
    listeners.event({"type": "message", "subtype": "file_share"}, shares.on_file_share)
    # Sent beside the message event for every share; it carries no caption, and the message
    # event (which does) handles the file, so it only needs acknowledging.
    listeners.event("file_shared", ignore)
    listeners.action(RETRY_ACTION, shares.on_retry)
