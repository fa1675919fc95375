"""Console roles and what each may do (no dependencies: the CLI reads it without the web extra).

`viewer` sees the fleet and anonymous results; `operator` also sees personal data (every view
audited), exports for the pension system and sends fleet commands.
"""

from __future__ import annotations

ROLES = ("viewer", "operator")
PERMISSIONS = {
    "viewer": frozenset({"view"}),
    "operator": frozenset({"view", "personal", "export", "command"}),
}


def allowed(role: str, action: str) -> bool:
    """Whether a role may do an action ('view', 'personal', 'export', 'command')."""
    return action in PERMISSIONS.get(role, frozenset())
