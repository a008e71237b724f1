"""The variables of a response export: names, Vietnamese and English labels, value codes.

Category codes are numbered from 1 in the order of the code lists in ``survey.models.codes``, so a
code never changes meaning when a value is added at the end. A stored code that a spreadsheet would turn
into a number (the age band ``60+`` becomes 60 in LibreOffice) is exported under another text code
(:data:`EXPORT_VALUES`); the database keeps the stored one.
"""

from __future__ import annotations

from analytics.tables import LEADING, NOT_ANSWERED, NOT_APPLICABLE, NOT_ASKED, Category, Column, score_categories
from survey.models import Instrument
from survey.models.codes import (
    AGE_BANDS,
    CHANNELS,
    COLLECTION_MODES,
    EDUCATION_LEVELS,
    GENDERS,
    OCCUPATIONS,
    RESPONDENT_TYPES,
    RESPONSE_STATUSES,
)

#: Stored code → (Vietnamese, English) label, per coded variable (the survey form's wording).
CODE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "channel": {
        "in_person": ("Trực tiếp", "In person"),
        "online": ("Trực tuyến", "Online"),
        "postal": ("Bưu chính", "By post"),
    },
    "collection_mode": {
        "qr": ("Mã QR tại quầy", "QR code at the counter"),
        "kiosk": ("Máy khảo sát tại quầy", "Kiosk at the counter"),
        "import": ("Nhập từ phiếu giấy hoặc tệp", "Imported from paper forms or a file"),
    },
    "respondent_type": {
        "person": ("Người dân", "A citizen"),
        "organisation": ("Người đại diện tổ chức", "A representative of an organisation"),
    },
    "gender": {"male": ("Nam", "Male"), "female": ("Nữ", "Female"), "other": ("Khác", "Other")},
    "age_band": {band: (band.replace("60+", "> 60"), band.replace("60+", "> 60")) for band in AGE_BANDS},
    "education": {
        "primary": ("Tiểu học", "Primary school"),
        "lower_secondary": ("Trung học cơ sở", "Lower secondary school"),
        "upper_secondary": ("Trung học phổ thông", "Upper secondary school"),
        "vocational": ("Dạy nghề, trung cấp, cao đẳng", "Vocational training, college"),
        "university": ("Đại học, trên đại học", "University or higher"),
        "other": ("Khác", "Other"),
    },
    "occupation": {
        "retired": ("Nghỉ hưu", "Retired"),
        "not_working": ("Không đi làm", "Not working"),
        "self_employed": ("Tự do, tự kinh doanh", "Self-employed, freelance"),
        "student": ("Học sinh, sinh viên", "Student"),
        "private_sector": ("Làm việc trong khu vực tư nhân", "Private sector"),
        "public_sector": ("Làm việc trong khu vực nhà nước", "Public sector"),
        "other": ("Khác", "Other"),
    },
    "status": {"valid": ("Hợp lệ", "Valid"), "excluded": ("Bị loại", "Excluded")},
}
_CODE_LISTS = {
    "channel": CHANNELS,
    "collection_mode": COLLECTION_MODES,
    "respondent_type": RESPONDENT_TYPES,
    "gender": GENDERS,
    "age_band": AGE_BANDS,
    "education": EDUCATION_LEVELS,
    "occupation": OCCUPATIONS,
    "status": RESPONSE_STATUSES,
}
assert all(set(CODE_LABELS[name]) == set(values) for name, values in _CODE_LISTS.items())

#: Stored code → the code written to every export (CSV, Excel, SPSS/Stata value labels, codebooks, API), for
#: the stored codes a spreadsheet coerces: LibreOffice reads ``60+`` as the number 60. ``over-60`` starts with a
#: letter, so neither LibreOffice nor Excel turns it into a number or a date; the other bands (``18-24``) stay
#: text there as they are (checked by the LibreOffice test of the export suite).
EXPORT_VALUES: dict[str, dict[str, str]] = {"age_band": {"60+": "over-60"}}
assert all(set(m) <= set(_CODE_LISTS[name]) for name, m in EXPORT_VALUES.items())


def stored_codes(name: str) -> tuple[str, ...]:
    """The stored codes of the coded variable ``name``, in code order (code 1 first)."""
    return _CODE_LISTS[name]


def export_value(name: str, stored: str) -> str:
    """The code an export writes for the stored code ``stored`` of the coded variable ``name``."""
    return EXPORT_VALUES.get(name, {}).get(stored, stored)


_PROFILE = {
    "channel": ("Hình thức thực hiện dịch vụ", "Service channel"),
    "collection_mode": ("Cách thu thập phiếu", "How the response was collected"),
    "respondent_type": ("Đối tượng trả lời", "Respondent type"),
    "gender": ("Giới tính", "Gender"),
    "age_band": ("Nhóm tuổi", "Age band"),
    "education": ("Trình độ học vấn", "Education"),
    "occupation": ("Nghề nghiệp", "Occupation"),
    "status": ("Trạng thái phiếu", "Response status"),
}

_LEADING = {
    "response_id": ("Mã phiếu (nội bộ)", "Response id (internal)", "integer"),
    "submission_id": ("Mã gửi phiếu (UUID)", "Submission id (UUID)", "text"),
    "agency": ("Mã cơ quan", "Agency code", "text"),
    "counter": ("Mã quầy", "Counter code", "text"),
    "admin_unit": ("Mã đơn vị hành chính của cơ quan", "Administrative unit code of the agency", "text"),
    "field": ("Mã lĩnh vực thủ tục", "Field of procedure code", "text"),
    "date": ("Ngày nhận phiếu (giờ địa phương)", "Date received (local time)", "text"),
    "period": ("Kỳ (tháng, YYYY-MM)", "Period (month, YYYY-MM)", "text"),
    "instrument": ("Mã bộ câu hỏi", "Questionnaire code", "text"),
    "instrument_version": ("Phiên bản bộ câu hỏi", "Questionnaire version", "integer"),
}
assert tuple(_LEADING) == LEADING

WEIGHT_LABEL = ("Trọng số cuối cùng (trọng số ô)", "Final weight (cell weight)")
STRATUM_LABEL = ("Tầng (mã cơ quan)", "Stratum (agency code)")
PSU_LABEL = ("Đơn vị mẫu sơ cấp (cơ quan/quầy/ngày)", "Primary sampling unit (agency/counter/date)")
SAMPLE_FACTOR_LABEL = ("Hệ số mở rộng của mẫu con (N_h/n_h)", "Subsample expansion factor (N_h/n_h)")
COMMENT_LABEL = ("Ý kiến khác (đã xoá thông tin cá nhân)", "Other comments (personal data removed)")


def category_column(name: str) -> Column:
    labels = CODE_LABELS[name]
    cats = tuple(Category(i, export_value(name, v), *labels[v]) for i, v in enumerate(_CODE_LISTS[name], start=1))
    return Column(name, *_PROFILE[name], kind="category", categories=cats)


def item_column(instrument: Instrument, item_code: str, text_vi: str, text_en: str) -> Column:
    levels = [(lv["value"], lv["vi"], lv["en"]) for lv in instrument.scale["levels"]]
    return Column(
        item_code,
        text_vi,
        text_en,
        kind="score",
        categories=score_categories(levels, not_asked=instrument.rotation is not None),
        note=f"{NOT_APPLICABLE} = not applicable, {NOT_ANSWERED} = not answered"
        + (f", {NOT_ASKED} = not asked (split questionnaire)" if instrument.rotation is not None else ""),
    )


def export_columns(instrument: Instrument, *, sample: bool, comments: bool) -> list[Column]:
    """Every variable of an export of ``instrument``, in file order."""
    cols = [Column(name, vi, en, kind) for name, (vi, en, kind) in _LEADING.items()]
    cols += [item_column(instrument, item.code, item.text_vi, item.text_en) for item in instrument.items]
    cols += [category_column(name) for name in _PROFILE]
    cols.append(Column("exclusion_reason", "Lý do loại phiếu", "Reason for exclusion", "text"))
    cols.append(Column("weight", *WEIGHT_LABEL, kind="number"))
    cols.append(Column("stratum", *STRATUM_LABEL, kind="text"))
    cols.append(Column("psu", *PSU_LABEL, kind="text"))
    if sample:
        cols.append(Column("sample_factor", *SAMPLE_FACTOR_LABEL, kind="number"))
    if comments:
        cols.append(Column("comment", *COMMENT_LABEL, kind="text"))
    return cols
