"""SQLAlchemy 2 typed models; importing this package registers every table on ``Base.metadata``."""

from survey.models.admin_unit import AdminUnit, AdminUnitSuccession
from survey.models.agency import Agency, Counter, ProcedureField
from survey.models.alert import Alert, AlertRun
from survey.models.api_token import ApiToken
from survey.models.audit import AuditEvent
from survey.models.export_job import ExportJob
from survey.models.followup import CommentFollowUp, PublicResultsSetting, PublishedAction
from survey.models.instrument import Instrument, InstrumentElement, InstrumentItem
from survey.models.notification import NotificationPreference, NotificationSend
from survey.models.par_scheme import ParSchemeRecord
from survey.models.response import Answer, Response
from survey.models.returned_form import ReturnedForm
from survey.models.review import CommentReview, ResponseFlag
from survey.models.stats import AnswerTally, PsuMonthSums, ResponseTally
from survey.models.survey_period import SurveyPeriod
from survey.models.user import RoleAssignment, SignInThrottle, User
from survey.models.volume import TransactionVolume

__all__ = [
    "AdminUnit",
    "AdminUnitSuccession",
    "Agency",
    "Alert",
    "AlertRun",
    "Answer",
    "AnswerTally",
    "ApiToken",
    "AuditEvent",
    "CommentFollowUp",
    "CommentReview",
    "Counter",
    "ExportJob",
    "Instrument",
    "InstrumentElement",
    "InstrumentItem",
    "NotificationPreference",
    "NotificationSend",
    "ParSchemeRecord",
    "ProcedureField",
    "PsuMonthSums",
    "PublicResultsSetting",
    "PublishedAction",
    "Response",
    "ResponseFlag",
    "ResponseTally",
    "ReturnedForm",
    "RoleAssignment",
    "SignInThrottle",
    "SurveyPeriod",
    "TransactionVolume",
    "User",
]
