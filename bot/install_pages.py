"""The web pages of "Add to Slack": the install page, and what the installer sees afterwards.

Pure functions returning HTML; every sentence a person reads is here. Nothing on these pages
comes from another site (no scripts, fonts or images), and everything interpolated is escaped.
"""

from __future__ import annotations

from html import escape

# Shown in Slack (by Bolt) to whoever uses the app in a workspace whose installation is gone.
NOT_INSTALLED = (
    "Altegio is not installed in this workspace any more. A workspace admin can add it again "
    "from the app's install page."
)

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; background: #f4f5f7; color: #1d1c1d; }
main { max-width: 560px; margin: 64px auto; background: #fff; border-radius: 8px;
       padding: 32px 40px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 24px; margin-top: 0; }
li { margin: 6px 0; }
code { background: #f4f5f7; padding: 1px 4px; border-radius: 3px; }
a.button { display: inline-block; background: #4a154b; color: #fff; font-weight: 600;
           padding: 12px 20px; border-radius: 6px; text-decoration: none; margin-top: 8px; }
.small { color: #616061; font-size: 14px; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def install_page(authorize_url: str) -> str:
    return _page(
        "Add Altegio to Slack",
        "<h1>Add Altegio to your Slack workspace</h1>"
        "<p>Altegio brings your salons', clinics' and studios' Altegio accounts into Slack:</p>"
        "<ul>"
        "<li><code>/license 4523464</code> shows a location's licence, and "
        "<code>/license watch 4523464</code> warns a channel before it lapses;</li>"
        "<li><code>/phone +44 20 7946 0958</code> checks a phone number;</li>"
        "<li>a photo shared with a caption like <code>master 17 location 4523464</code> "
        "becomes that team member's picture in Altegio.</li>"
        "</ul>"
        "<p>Slack will ask you to allow the app to add its slash commands, post messages and "
        "reactions, read the messages and files shared in channels it is invited to, and "
        "send you direct messages. Each person then links their own Altegio account with "
        "<code>/altegio login</code>.</p>"
        f'<p><a class="button" href="{escape(authorize_url, quote=True)}">Add to Slack</a></p>'
        '<p class="small">Your workspace keeps its own data: nothing is shared with other '
        "workspaces, and removing the app deletes what it stored for yours.</p>",
    )


def success_page(*, team_name: str | None, app_url: str | None) -> str:
    where = f"in <strong>{escape(team_name)}</strong>" if team_name else "in your workspace"
    link = (
        f'<p><a class="button" href="{escape(app_url, quote=True)}">Open Slack</a></p>'
        if app_url
        else ""
    )
    return _page(
        "Altegio is installed",
        f"<h1>Altegio is installed {where}</h1>"
        "<p>What to do next, in Slack:</p>"
        "<ol>"
        "<li>Type <code>/altegio login</code> to link your Altegio account (everyone who "
        "uses the app links their own).</li>"
        "<li>Invite the app to the channels where photos are shared or licence alerts should "
        "go: <code>/invite @Altegio</code>.</li>"
        "<li>Try <code>/license</code> with one of your location ids.</li>"
        "</ol>"
        f"{link}"
        '<p class="small">You can close this page.</p>',
    )


# Why an installation did not complete, in words, by the reason Bolt reports.
_FAILURES: dict[str, tuple[str, str]] = {
    "access_denied": (
        "The installation was cancelled",
        "Nothing was installed. If you did not mean to cancel, start again.",
    ),
    "invalid_browser": (
        "Please start again in this browser",
        "This page was opened in a different browser from the one that started the "
        "installation, or the browser did not keep the page's cookie. Start again here, "
        "with cookies allowed for this site.",
    ),
    "invalid_state": (
        "This installation link has expired",
        "Each click on Add to Slack can be used once, for ten minutes. Start again.",
    ),
    "missing_code": (
        "Slack did not confirm the installation",
        "The page was opened without Slack's approval. Start again from the install page.",
    ),
    "invalid_code": (
        "Slack did not confirm the installation",
        "Slack's approval had expired or was already used, or Slack could not be reached. "
        "Start again; if it keeps failing, tell whoever runs this app.",
    ),
    "storage_error": (
        "The installation could not be saved",
        "Slack approved it, but the app could not save it just now. Please try again in a "
        "few minutes; if it keeps failing, tell whoever runs this app.",
    ),
}


def failure_page(reason: str, *, install_path: str) -> str:
    title, detail = _FAILURES.get(
        reason,
        (
            "The installation did not complete",
            f"Slack reported: {reason[:100]}. Start again; if it keeps failing, tell whoever runs "
            "this app.",
        ),
    )
    return _page(
        title,
        f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>"
        f'<p><a class="button" href="{escape(install_path, quote=True)}">Start again</a></p>',
    )


def unavailable_page(*, install_path: str) -> str:
    return failure_page("storage_error", install_path=install_path)
