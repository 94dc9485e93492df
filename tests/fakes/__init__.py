"""Fake Altegio and Slack Web API servers on 127.0.0.1, and signed Slack requests, for tests."""

from tests.fakes.altegio import PARTNER_TOKEN, FakeAltegio, FakeLicense, FakeUser, StoredImage
from tests.fakes.records import RecordedRequest, UploadedFile
from tests.fakes.signing import CHANNEL_ID, SIGNING_SECRET, USER_ID, SlackSender
from tests.fakes.slack import FakeSlack, ResponsePost, SlackCall
from tests.fakes.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_ID,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "PARTNER_TOKEN",
    "SIGNING_SECRET",
    "TEAM_ID",
    "USER_ID",
    "FakeAltegio",
    "FakeLicense",
    "FakeSlack",
    "FakeUser",
    "RecordedRequest",
    "ResponsePost",
    "SlackCall",
    "SlackSender",
    "StoredImage",
    "UploadedFile",
]
