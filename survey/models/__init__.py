"""SQLAlchemy 2 typed models; importing this package registers every table on ``Base.metadata``."""

from survey.models.admin_unit import AdminUnit, AdminUnitSuccession
from survey.models.agency import Agency, Counter, ProcedureField
from survey.models.audit import AuditEvent
from survey.models.instrument import Instrument, InstrumentElement, InstrumentItem
from survey.models.response import Answer, Response
from survey.models.stats import AnswerTally, ResponseTally
from survey.models.user import RoleAssignment, User
from survey.models.volume import TransactionVolume

__all__ = [
    "AdminUnit",
    "AdminUnitSuccession",
    "Agency",
    "Answer",
    "AnswerTally",
    "AuditEvent",
    "Counter",
    "Instrument",
    "InstrumentElement",
    "InstrumentItem",
    "ProcedureField",
    "Response",
    "ResponseTally",
    "RoleAssignment",
    "TransactionVolume",
    "User",
]
from survey.models.review import ResponseFlag  # noqa: E402, F401  (issue 3: burst review flags)
