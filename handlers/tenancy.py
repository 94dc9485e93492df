"""Which workspace a request, a row or an installation belongs to.

Every row of workspace data (linked sessions, watches, alerts, files, deliveries) carries one key,
the installing workspace: its team id, or for an Enterprise Grid org-wide install the
enterprise id, since one installation then serves every workspace of the org (user and channel
ids are unique across an org). The installation store keys installations the same way, so
deleting a workspace's installation and its data is one key.
"""

from __future__ import annotations


def workspace_key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> str:
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id or ""
