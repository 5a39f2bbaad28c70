"""The staff console at /staff: sign in, the queue (urgent first), a case, the overview, the
maintainers' inbox, the audit log and user management. One blueprint per feature, nested under
``staff`` (endpoints ``staff.auth.login``, ``staff.cases.queue``, ...). Every route checks the
role; every change is audited."""

from __future__ import annotations

from bot.web.staff import auth, cases, conversation, inbox, users
from bot.web.staff.access import blueprint

for _feature in (auth, cases, conversation, inbox, users):
    blueprint.register_blueprint(_feature.blueprint)

__all__ = ["blueprint"]
