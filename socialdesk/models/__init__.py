from socialdesk.models.audit import AuditEvent
from socialdesk.models.calendar import ClosedDay, WorkingInterval
from socialdesk.models.health import Heartbeat
from socialdesk.models.users import Role, User

__all__ = ["AuditEvent", "ClosedDay", "Heartbeat", "Role", "User", "WorkingInterval"]
