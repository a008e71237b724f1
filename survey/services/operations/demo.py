"""A realistic demo province with synthetic responses, deterministic for a given seed.

The province is modelled on Ninh Bình after the 2025 reorganisation (the old provinces Ninh Bình,
Hà Nam and Nam Định merged on 2025-07-01, districts abolished). Unit codes and commune names are
illustrative, not the official register. Satisfaction follows an ordered-logit model with agency,
counter, item and respondent effects, so most items land between 80 % and 98 % satisfied with real
differences between agencies; "not applicable" answers and a few blanks (paper forms typed in)
give item non-response.

Responses are bulk-inserted on the driver connection (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) in chunks, inside the caller's transaction, with the model's columns and every value bound
through its column's type (as the ORM would store it); the sufficient-statistics tallies are then
rebuilt in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
from psycopg import sql as psycopg_sql
from sqlalchemy import Dialect, Table, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint, ExecutableDDLElement

from survey.db import driver_connection
from survey.models import (
    AdminUnit,
    AdminUnitSuccession,
    Agency,
    Answer,
    Counter,
    Instrument,
    ProcedureField,
    Response,
    TransactionVolume,
)
from survey.models.codes import AGE_BANDS, EDUCATION_LEVELS, OCCUPATIONS
from survey.services.administration.instruments import latest_instrument, read_instrument_files, sync_instruments
from survey.services.identity import audit
from survey.services.identity.users import create_user
from survey.services.statistics import tallies

PROVINCE_AGENCY = "ninh-binh"
REORGANISATION = dt.date(2025, 7, 1)
HISTORY_START = dt.date(2008, 1, 1)
CHUNK = 50_000
DEFAULT_INSTRUMENT = "sipas-2017"
PILOT_INSTRUMENT = "sipas-2022-services"
#: The split questionnaire (6 of 19 criteria per citizen), on one more counter at each pilot agency.
SHORT_INSTRUMENT = "sipas-2022-short"

FIELDS = [
    ("dat-dai", "Đất đai", "Land"),
    ("ho-tich", "Hộ tịch", "Civil status"),
    ("chung-thuc", "Chứng thực", "Certification"),
    ("xay-dung", "Xây dựng", "Construction"),
    ("doanh-nghiep", "Thành lập và hoạt động của doanh nghiệp", "Business registration"),
    ("dau-tu", "Đầu tư tại Việt Nam", "Investment"),
    ("duong-bo", "Đường bộ", "Road transport"),
    ("lao-dong", "Lao động, việc làm", "Labour and employment"),
    ("bao-tro-xa-hoi", "Bảo trợ xã hội", "Social protection"),
    ("kham-chua-benh", "Khám bệnh, chữa bệnh", "Medical practice"),
    ("giao-duc", "Giáo dục và đào tạo", "Education and training"),
    ("moi-truong", "Môi trường", "Environment"),
    ("ly-lich-tu-phap", "Lý lịch tư pháp", "Judicial records"),
    ("van-hoa", "Văn hóa, du lịch", "Culture and tourism"),
]

# (code, Vietnamese name, English name, fields handled)
DEPARTMENTS = [
    ("so-noi-vu", "Sở Nội vụ", "Department of Home Affairs", ["lao-dong"]),
    ("so-tai-chinh", "Sở Tài chính", "Department of Finance", ["doanh-nghiep", "dau-tu"]),
    ("so-tu-phap", "Sở Tư pháp", "Department of Justice", ["ly-lich-tu-phap", "chung-thuc"]),
    ("so-xay-dung", "Sở Xây dựng", "Department of Construction", ["xay-dung", "duong-bo"]),
    (
        "so-nong-nghiep-moi-truong",
        "Sở Nông nghiệp và Môi trường",
        "Department of Agriculture and Environment",
        ["dat-dai", "moi-truong"],
    ),
    ("so-y-te", "Sở Y tế", "Department of Health", ["kham-chua-benh", "bao-tro-xa-hoi"]),
    ("so-giao-duc", "Sở Giáo dục và Đào tạo", "Department of Education and Training", ["giao-duc"]),
    ("so-cong-thuong", "Sở Công Thương", "Department of Industry and Trade", ["doanh-nghiep"]),
    ("so-van-hoa", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism", ["van-hoa"]),
    ("so-khoa-hoc-cong-nghe", "Sở Khoa học và Công nghệ", "Department of Science and Technology", ["doanh-nghiep"]),
]

# New communes (after 2025-07-01), kind, and the old communes merged into each (illustrative names).
COMMUNES = [
    ("hoa-lu", "Phường Hoa Lư", "phường", ["Phường Đông Thành", "Phường Tân Thành", "Phường Vân Giang"]),
    ("tam-diep", "Phường Tam Điệp", "phường", ["Phường Bắc Sơn", "Phường Trung Sơn"]),
    ("phu-ly", "Phường Phủ Lý", "phường", ["Phường Hai Bà Trưng", "Phường Lương Khánh Thiện"]),
    ("nam-dinh", "Phường Nam Định", "phường", ["Phường Vị Xuyên", "Phường Trần Hưng Đạo", "Phường Năng Tĩnh"]),
    ("gia-vien", "Xã Gia Viễn", "xã", ["Thị trấn Me", "Xã Gia Vượng"]),
    ("nho-quan", "Xã Nho Quan", "xã", ["Thị trấn Nho Quan", "Xã Đồng Phong"]),
    ("kim-son", "Xã Kim Sơn", "xã", ["Thị trấn Phát Diệm", "Xã Thượng Kiệm"]),
    ("yen-mo", "Xã Yên Mô", "xã", ["Thị trấn Yên Thịnh", "Xã Khánh Thượng"]),
    ("duy-tien", "Phường Duy Tiên", "phường", ["Phường Hòa Mạc", "Phường Yên Bắc"]),
    ("kim-bang", "Xã Kim Bảng", "xã", ["Thị trấn Quế", "Xã Nhật Tân"]),
    ("hai-hau", "Xã Hải Hậu", "xã", ["Thị trấn Yên Định", "Xã Hải Bắc"]),
    ("giao-thuy", "Xã Giao Thủy", "xã", ["Thị trấn Ngô Đồng", "Xã Giao Nhân"]),
]
FIELD_NAMES = {code: vi for code, vi, _en in FIELDS}
FIELD_NAMES_EN = {code: en for code, _vi, en in FIELDS}


def _commune_name_en(name: str) -> str:
    """ "Phường Hoa Lư" → "Hoa Lư Ward People's Committee" (the place name stays Vietnamese, the rest English)."""
    kind, place = name.split(" ", 1)
    return f"{place} {'Ward' if kind == 'Phường' else 'Commune'} People's Committee"


COMMUNE_FIELDS = ["ho-tich", "chung-thuc", "dat-dai", "bao-tro-xa-hoi", "xay-dung"]
OLD_PROVINCES = [("37", "Tỉnh Ninh Bình"), ("35", "Tỉnh Hà Nam"), ("36", "Tỉnh Nam Định")]
# Old province of each commune's predecessors, by position in COMMUNES.
COMMUNE_OLD_PROVINCE = ["37", "37", "35", "36", "37", "37", "37", "37", "35", "35", "36", "36"]

COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Thời gian chờ hơi lâu, cần thêm ghế ngồi.",
    "Thủ tục nhanh gọn, tôi rất hài lòng.",
    "Nên niêm yết rõ hơn mức phí, lệ phí.",
    "Máy lấy số thứ tự bị hỏng, phải hỏi nhiều lần.",
    "Cảm ơn cán bộ đã giải thích kỹ.",
    "Bãi gửi xe chật, trời mưa không có mái che.",
    "Kết quả trả đúng hẹn.",
    "Cần hướng dẫn nộp hồ sơ trực tuyến dễ hiểu hơn.",
    "Phòng chờ sạch sẽ, thoáng mát.",
    "Phải bổ sung hồ sơ hai lần vì hướng dẫn chưa rõ.",
    "Nhân viên lịch sự, thân thiện.",
]

DEMO_ROLES = [
    ("admin@demo.sipas.vn", "Quản trị hệ thống", "system_admin", None),
    ("tinh@demo.sipas.vn", "Sở Nội vụ – quản trị tỉnh", "province_admin", PROVINCE_AGENCY),
    ("quanly.tuphap@demo.sipas.vn", "Quản lý Sở Tư pháp", "agency_manager", "so-tu-phap"),
    ("xem.hoalu@demo.sipas.vn", "Cán bộ Phường Hoa Lư", "agency_viewer", "hoa-lu"),
    ("thongke@demo.sipas.vn", "Thống kê viên tỉnh", "statistician", PROVINCE_AGENCY),
    ("kiemtra@demo.sipas.vn", "Kiểm tra viên", "auditor", PROVINCE_AGENCY),
]


class DemoError(RuntimeError):
    """The demo cannot be seeded as asked; the message says why and what to do."""


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    agency: str | None


@dataclass
class DemoReport:
    agencies: int = 0
    counters: int = 0
    responses: int = 0
    answers: int = 0
    seconds: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)


@dataclass(frozen=True)
class _CounterPlan:
    counter_id: int
    agency_id: int
    instrument_id: int
    traffic: float
    effect: float
    field_ids: tuple[int, ...]


@dataclass(frozen=True)
class _InstrumentPlan:
    item_ids: np.ndarray
    item_effect: np.ndarray
    na_rate: np.ndarray


def last_complete_month(today: dt.date) -> dt.date:
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def _months(end_month: dt.date, count: int = 12) -> list[dt.date]:
    months = [end_month]
    while len(months) < count:
        prev = months[-1] - dt.timedelta(days=1)
        months.append(prev.replace(day=1))
    return sorted(months)


# -- structure ---------------------------------------------------------------------------------------------------


def _build_units(session: Session) -> tuple[AdminUnit, dict[str, AdminUnit]]:
    new_province = AdminUnit(code="37", level="province", name="Tỉnh Ninh Bình", valid_from=REORGANISATION)
    session.add(new_province)
    old = {}
    for code, name in OLD_PROVINCES:
        unit = AdminUnit(code=code, level="province", name=name, valid_from=HISTORY_START, valid_to=REORGANISATION)
        session.add(unit)
        old[code] = unit
        session.add(
            AdminUnitSuccession(predecessor=unit, successor=new_province, effective_on=REORGANISATION, kind="merge")
        )
    communes: dict[str, AdminUnit] = {}
    for position, (code, name, _kind, predecessors) in enumerate(COMMUNES):
        old_province = old[COMMUNE_OLD_PROVINCE[position]]
        # Districts existed only before 2025-07-01: one illustrative district per new commune's area.
        district = AdminUnit(
            code=f"{old_province.code}{position:03d}",
            level="district",
            name=f"Huyện/Thành phố khu vực {name.split(' ', 1)[1]}",
            parent=old_province,
            valid_from=HISTORY_START,
            valid_to=REORGANISATION,
        )
        session.add(district)
        unit = AdminUnit(
            code=f"{20000 + position * 10}", level="commune", name=name, parent=new_province, valid_from=REORGANISATION
        )
        session.add(unit)
        communes[code] = unit
        for k, old_name in enumerate(predecessors):
            predecessor = AdminUnit(
                code=f"{10000 + position * 10 + k}",
                level="commune",
                name=old_name,
                parent=district,
                valid_from=HISTORY_START,
                valid_to=REORGANISATION,
            )
            session.add(predecessor)
            session.add(
                AdminUnitSuccession(predecessor=predecessor, successor=unit, effective_on=REORGANISATION, kind="merge")
            )
    return new_province, communes


def _build_structure(session: Session, rng: np.random.Generator, end_month: dt.date) -> None:
    sync_instruments(session, read_instrument_files())
    default = latest_instrument(session, DEFAULT_INSTRUMENT)
    pilot = latest_instrument(session, PILOT_INSTRUMENT)
    assert default is not None and pilot is not None
    fields = {code: ProcedureField(code=code, name_vi=vi, name_en=en) for code, vi, en in FIELDS}
    session.add_all(fields.values())
    province_unit, commune_units = _build_units(session)

    province = Agency(
        code=PROVINCE_AGENCY,
        kind="province",
        name_vi="UBND tỉnh Ninh Bình",
        name_en="Ninh Bình Provincial People's Committee",
        admin_unit=province_unit,
    )
    session.add(province)
    centre = Agency(
        code="ttphvhcc-tinh",
        kind="service_centre",
        parent=province,
        name_vi="Trung tâm Phục vụ hành chính công tỉnh",
        name_en="Provincial Public Administrative Service Centre",
        admin_unit=province_unit,
    )
    session.add(centre)
    handled: list[tuple[Agency, list[str], int]] = []  # agency, fields, monthly transactions per field
    for code, vi, en, dept_fields in DEPARTMENTS:
        agency = Agency(code=code, kind="department", parent=province, name_vi=vi, name_en=en, admin_unit=province_unit)
        session.add(agency)
        handled.append((agency, dept_fields, int(rng.integers(150, 1500))))
    for code, name, _kind, _old in COMMUNES:
        agency = Agency(
            code=code,
            kind="commune",
            parent=province,
            name_vi=f"UBND {name}",
            name_en=_commune_name_en(name),
            admin_unit=commune_units[code],
        )
        session.add(agency)
        handled.append((agency, COMMUNE_FIELDS, int(rng.integers(60, 500))))

    # Counters: departments sit at the provincial centre, communes at their own one-stop section.
    for index, (agency, agency_fields, _) in enumerate(handled):
        n_counters = int(rng.integers(2, 6))
        pilot_site = index % 7 == 3  # a few agencies pilot the 2022+ item set on one counter
        for k in range(1, n_counters + 1):
            instrument = pilot if pilot_site and k == 1 else default
            field_code = agency_fields[(k - 1) % len(agency_fields)]
            field_name = FIELD_NAMES[field_code]
            session.add(
                Counter(
                    agency=agency,
                    code=f"quay-{k:02d}",
                    name_vi=f"Quầy số {k} – {field_name}",
                    name_en=f"Counter {k} – {FIELD_NAMES_EN[field_code]}",
                    instrument=instrument,
                )
            )
    session.flush()

    for agency, agency_fields, monthly in handled:
        for field_code in agency_fields:
            base = monthly * rng.uniform(0.4, 1.2)
            for month in _months(end_month):
                seasonal = 1 + 0.15 * np.sin((month.month - 2) / 12 * 2 * np.pi)
                count = int(max(0, rng.normal(base * seasonal, base * 0.08)))
                session.add(
                    TransactionVolume(
                        agency_id=agency.id,
                        field_id=fields[field_code].id,
                        month=month,
                        transactions=count,
                        source="demo",
                    )
                )
    session.flush()


def _add_short_form_counters(session: Session) -> None:
    """One more counter at each agency piloting the 2022+ item set, asking the split questionnaire.

    Added after the synthetic responses so they, and every figure drawn from them, stay as they were.
    """
    short = latest_instrument(session, SHORT_INSTRUMENT)
    pilot = latest_instrument(session, PILOT_INSTRUMENT)
    if short is None or pilot is None:
        return
    pilot_agencies = session.scalars(
        select(Counter.agency_id).where(Counter.instrument_id == pilot.id).distinct().order_by(Counter.agency_id)
    ).all()
    for agency_id in pilot_agencies:
        session.add(
            Counter(
                agency=session.get(Agency, agency_id),  # through the relationship: agency.counters sees it at once
                code="quay-phieu-ngan",
                name_vi="Quầy phiếu ngắn (mỗi người 6 câu)",
                name_en="Counter with the short form (6 questions each)",
                instrument=short,
            )
        )
    session.flush()


# -- response plan -----------------------------------------------------------------------------------------------


def _plans(session: Session, seed: int) -> tuple[list[_CounterPlan], dict[int, _InstrumentPlan]]:
    """Per-counter traffic and effects, read back from the database so --append uses the same model."""
    volumes = dict(
        session.execute(
            select(TransactionVolume.agency_id, func.sum(TransactionVolume.transactions)).group_by(
                TransactionVolume.agency_id
            )
        ).all()
    )
    agency_fields: dict[int, list[int]] = {}
    for agency_id, field_id in session.execute(
        select(TransactionVolume.agency_id, TransactionVolume.field_id)
        .distinct()
        .order_by(TransactionVolume.agency_id, TransactionVolume.field_id)
    ):
        agency_fields.setdefault(agency_id, []).append(field_id)
    counters = list(session.scalars(select(Counter).where(Counter.active.is_(True)).order_by(Counter.id)))
    # No made-up history for a split questionnaire's counters: their responses come from the survey itself.
    counters = [c for c in counters if c.instrument.rotation is None]
    if not counters:
        raise DemoError("no active counters to attribute responses to")
    per_agency: dict[int, int] = {}
    for c in counters:
        per_agency[c.agency_id] = per_agency.get(c.agency_id, 0) + 1
    plans = []
    for c in counters:
        effects = np.random.default_rng([seed, 7, c.agency_id]).normal(0, 0.4)
        counter_effect = np.random.default_rng([seed, 11, c.id]).normal(0, 0.2)
        response_rate = np.random.default_rng([seed, 13, c.agency_id]).uniform(0.05, 0.25)
        traffic = volumes.get(c.agency_id, 100) * response_rate / per_agency[c.agency_id]
        plans.append(
            _CounterPlan(
                c.id,
                c.agency_id,
                c.instrument_id,
                float(traffic),
                float(effects + counter_effect),
                tuple(agency_fields.get(c.agency_id, ())),
            )
        )
    instruments: dict[int, _InstrumentPlan] = {}
    for instrument_id in sorted({c.instrument_id for c in counters}):
        instrument = session.get(Instrument, instrument_id)
        assert instrument is not None
        items = instrument.items
        irng = np.random.default_rng([seed, 17, instrument_id])
        effect = irng.normal(0, 0.3, len(items))
        na_rate = np.array(
            [(0.35 if item.element.code == "feedback" else 0.08) if item.allows_na else 0.0 for item in items]
        )
        effect -= np.array([0.35 if item.element.code in ("feedback", "access") else 0.0 for item in items])
        instruments[instrument_id] = _InstrumentPlan(np.array([i.id for i in items]), effect, na_rate)
    return plans, instruments


def _working_days(end_month: dt.date) -> np.ndarray:
    months = _months(end_month)
    start = months[0]
    stop = (end_month + dt.timedelta(days=32)).replace(day=1)
    days = [start + dt.timedelta(days=d) for d in range((stop - start).days)]
    return np.array([d for d in days if d.weekday() < 5], dtype="datetime64[D]")


@dataclass
class _Chunk:
    """Column arrays for one chunk of responses and their answers (long format)."""

    ids: np.ndarray
    submission_ids: list[uuid.UUID]
    agency_ids: np.ndarray
    counter_ids: np.ndarray
    instrument_ids: np.ndarray
    received_at: list[dt.datetime]
    received_on: list[dt.date]
    collection_mode: list[str]
    respondent_type: list[str]
    field_ids: list[int | None]
    gender: list[str | None]
    age_band: list[str | None]
    education: list[str | None]
    occupation: list[str | None]
    comment: list[str | None]
    status: list[str]
    reason: list[str | None]
    answer_response: np.ndarray
    answer_item: np.ndarray
    answer_score: np.ndarray  # 0 = not applicable


def _pick(
    rng: np.random.Generator, values: tuple[str, ...] | list[str], probs: list[float], n: int, missing: float
) -> list[str | None]:
    idx = rng.choice(len(values), size=n, p=probs)
    out: list[str | None] = np.asarray(values, dtype=object)[idx].tolist()
    for i in np.flatnonzero(rng.random(n) < missing):
        out[i] = None
    return out


def _generate_chunk(
    rng: np.random.Generator,
    first_id: int,
    n: int,
    plans: list[_CounterPlan],
    instruments: dict[int, _InstrumentPlan],
    days: np.ndarray,
    tz: ZoneInfo,
) -> _Chunk:
    traffic = np.array([p.traffic for p in plans])
    which = rng.choice(len(plans), size=n, p=traffic / traffic.sum())
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    raw = rng.bytes(16 * n)
    submission_ids = [uuid.UUID(bytes=raw[16 * i : 16 * i + 16], version=4) for i in range(n)]
    day = days[rng.integers(0, len(days), n)]
    seconds = rng.integers(int(7.5 * 3600), 17 * 3600, n)
    offset = tz.utcoffset(dt.datetime(2026, 1, 1)) or dt.timedelta(0)  # Vietnam has no DST
    local = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    utc = local - np.timedelta64(int(offset.total_seconds()), "s")
    received_at = [t.replace(tzinfo=dt.UTC) for t in utc.astype(dt.datetime)]
    received_on = day.astype(dt.date).tolist()
    imported = rng.random(n) < 0.05
    field_ids: list[int | None] = []
    field_draw = rng.random(n)
    for k, u in zip(which.tolist(), field_draw.tolist(), strict=True):
        options = plans[k].field_ids
        field_ids.append(options[int(u * len(options))] if options and u < 0.9 else None)
    excluded = rng.random(n) < 0.003
    comment_idx = rng.integers(0, len(COMMENTS), n)
    has_comment = rng.random(n) < 0.04

    person = rng.normal(0, 0.7, n)
    agency_effect = np.array([p.effect for p in plans])[which]
    resp_parts, item_parts, score_parts = [], [], []
    instrument_of = np.array([p.instrument_id for p in plans])[which]
    for instrument_id, plan in instruments.items():
        rows = np.flatnonzero(instrument_of == instrument_id)
        if rows.size == 0:
            continue
        k = plan.item_ids.size
        latent = (
            3.4
            + agency_effect[rows, None]
            + person[rows, None]
            + plan.item_effect[None, :]
            + rng.logistic(0, 0.6, (rows.size, k))
        )
        scores = (
            1
            + (latent > -0.5).astype(np.int8)
            + (latent > 0.6).astype(np.int8)
            + (latent > 1.45).astype(np.int8)
            + (latent > 3.1).astype(np.int8)
        )
        scores[rng.random((rows.size, k)) < plan.na_rate[None, :]] = 0
        keep = ~((rng.random((rows.size, k)) < 0.03) & imported[rows, None])  # blanks on typed-in paper forms
        r_idx, i_idx = np.nonzero(keep)
        resp_parts.append(ids[rows][r_idx])
        item_parts.append(plan.item_ids[i_idx])
        score_parts.append(scores[r_idx, i_idx])
    order = np.argsort(np.concatenate(resp_parts), kind="stable")
    return _Chunk(
        ids=ids,
        submission_ids=submission_ids,
        agency_ids=np.array([p.agency_id for p in plans])[which],
        counter_ids=np.array([p.counter_id for p in plans])[which],
        instrument_ids=instrument_of,
        received_at=received_at,
        received_on=received_on,
        collection_mode=np.where(imported, "import", "qr").tolist(),
        respondent_type=np.where(rng.random(n) < 0.92, "person", "organisation").tolist(),
        field_ids=field_ids,
        gender=_pick(rng, ["male", "female", "other"], [0.48, 0.51, 0.01], n, 0.15),
        age_band=_pick(rng, AGE_BANDS, [0.12, 0.27, 0.33, 0.18, 0.10], n, 0.12),
        education=_pick(rng, EDUCATION_LEVELS, [0.08, 0.17, 0.30, 0.18, 0.25, 0.02], n, 0.2),
        occupation=_pick(rng, OCCUPATIONS, [0.10, 0.06, 0.30, 0.05, 0.27, 0.17, 0.05], n, 0.2),
        comment=[COMMENTS[i] if c else None for i, c in zip(comment_idx.tolist(), has_comment.tolist(), strict=True)],
        status=np.where(excluded, "excluded", "valid").tolist(),
        reason=["Demo: staff test submission" if e else None for e in excluded.tolist()],
        answer_response=np.concatenate(resp_parts)[order],
        answer_item=np.concatenate(item_parts)[order],
        answer_score=np.concatenate(score_parts)[order],
    )


def _response_columns(c: _Chunk) -> dict[str, list[Any]]:
    """The chunk's responses, column by column, keyed by the model's column names."""
    return {
        "id": c.ids.tolist(),
        "submission_id": c.submission_ids,
        "agency_id": c.agency_ids.tolist(),
        "counter_id": c.counter_ids.tolist(),
        "instrument_id": c.instrument_ids.tolist(),
        "received_at": c.received_at,
        "received_on": c.received_on,
        "channel": ["in_person"] * len(c.submission_ids),
        "collection_mode": c.collection_mode,
        "respondent_type": c.respondent_type,
        "field_id": c.field_ids,
        "gender": c.gender,
        "age_band": c.age_band,
        "education": c.education,
        "occupation": c.occupation,
        "comment": c.comment,
        "status": c.status,
        "exclusion_reason": c.reason,
    }


def _bound_rows(
    table: Table, columns: dict[str, list[Any]], dialect: Dialect
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """The names (in table order) and rows of ``columns``, each value bound as its column's type binds it."""
    names = [column.name for column in table.c if column.name in columns]
    if len(names) != len(columns):
        raise ValueError(f"not columns of {table.name}: {sorted(set(columns) - set(names))}")
    bound = []
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = columns[name]
        bound.append(values if process is None else [None if v is None else process(v) for v in values])
    return names, zip(*bound, strict=True)


@cache
def _insert_sql(dialect: Dialect, table: Table, names: tuple[str, ...]) -> str:
    """``INSERT INTO table (names) VALUES (?, …)`` in the driver's own parameter style, from the Core statement."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(names))
    if compiled.positiontup is not None and tuple(compiled.positiontup) != names:
        raise AssertionError("the insert's parameters are not in the rows' column order")
    return str(compiled)


def _copy_sql(table: Table, names: Iterable[str]) -> psycopg_sql.Composed:
    """``COPY table (names) FROM STDIN``, composed with quoted identifiers (Core has no COPY)."""
    columns = psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(name) for name in names)
    return psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(psycopg_sql.Identifier(table.name), columns)


def _answer_columns(c: _Chunk) -> dict[str, list[Any]]:
    scores = c.answer_score.astype(object)
    scores[c.answer_score == 0] = None
    return {"response_id": c.answer_response.tolist(), "item_id": c.answer_item.tolist(), "score": scores.tolist()}


def _copy_text(rows: Iterable[tuple[object, ...]]) -> bytes:
    """PostgreSQL COPY text format: tab-separated, \\N for NULL, backslash escapes."""
    out = io.StringIO()
    for row in rows:
        out.write(
            "\t".join(
                "\\N" if v is None else str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                for v in row
            )
        )
        out.write("\n")
    return out.getvalue().encode("utf-8")


class _Writer:
    """Bulk writes on the driver connection of the session's transaction."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.driver = driver_connection(self.connection)
        self.deferred: list[ExecutableDDLElement] = []
        if self.dialect == "sqlite":
            self.connection.exec_driver_sql("PRAGMA cache_size=-262144")
        else:
            self._defer_answer_constraints()

    def _defer_answer_constraints(self) -> None:
        """Drop the answers table's key and foreign keys for the load, re-create them in :meth:`finish`.

        Checking 22 million rows one at a time is what makes PostgreSQL slow here; building the
        index and validating the foreign keys once at the end is several times faster (PostgreSQL
        manual, "Populating a Database"). It all happens in the caller's transaction: if anything
        fails, the constraints come back with the rollback. DDL comes from the model metadata,
        which the migrations are tested to match.
        """
        table = cast(Table, Answer.__table__)
        constraints = [table.primary_key, *sorted(table.foreign_key_constraints, key=lambda c: str(c.name))]
        self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for constraint in reversed(constraints):
            self.connection.execute(DropConstraint(constraint))
        self.deferred = [AddConstraint(constraint) for constraint in constraints]

    def write(self, c: _Chunk) -> None:
        """Insert the chunk's responses and answers, every value bound through its column's type."""
        dialect = self.connection.dialect
        for model, columns in ((Response, _response_columns(c)), (Answer, _answer_columns(c))):
            table = cast(Table, model.__table__)
            names, rows = _bound_rows(table, columns, dialect)
            if self.dialect == "sqlite":
                self.driver.executemany(_insert_sql(dialect, table, tuple(names)), rows)
                continue
            with self.driver.cursor() as cur, cur.copy(_copy_sql(table, names)) as copy:
                copy.write(_copy_text(rows))

    def finish(self) -> None:
        for ddl in self.deferred:
            self.connection.execute(ddl)
        if self.dialect == "postgresql":
            last_id = select(func.coalesce(func.max(Response.id), 1)).scalar_subquery()
            sequence = func.pg_get_serial_sequence(Response.__tablename__, "id")
            self.connection.execute(select(func.setval(sequence, last_id)))


def insert_responses(
    session: Session,
    n: int,
    seed: int,
    end_month: dt.date,
    timezone: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Insert ``n`` synthetic responses in the caller's transaction; return (responses, answers)."""
    plans, instruments = _plans(session, seed)
    days = _working_days(end_month)
    tz = ZoneInfo(timezone)
    first_id = (session.scalar(select(func.max(Response.id))) or 0) + 1
    writer = _Writer(session)
    rng = np.random.default_rng([seed, 1, first_id])
    answers = 0
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        chunk = _generate_chunk(rng, first_id + done, size, plans, instruments, days, tz)
        writer.write(chunk)
        answers += int(chunk.answer_response.size)
        done += size
        if progress:
            progress(size)
    writer.finish()
    return done, answers


def seed_demo(
    session: Session,
    responses: int,
    seed: int,
    append: bool,
    end_month: dt.date,
    timezone: str,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Build the demo province (unless appending) and insert synthetic responses, in one transaction."""
    if responses < 0:
        raise DemoError("the number of responses cannot be negative")
    started = time.perf_counter()
    report = DemoReport()
    has_data = session.scalar(select(func.count()).select_from(Agency)) or 0
    if has_data and not append:
        raise DemoError("the database already holds agencies; use --append to add responses to the demo province")
    if append and session.scalar(select(Agency.id).where(Agency.code == PROVINCE_AGENCY)) is None:
        raise DemoError(f"--append needs a database seeded by seed-demo (no agency {PROVINCE_AGENCY!r})")
    if not has_data:
        _build_structure(session, np.random.default_rng([seed, 0]), end_month)
        session.commit()
        for email, name, role, agency in DEMO_ROLES:
            password = secrets.token_urlsafe(12)
            create_user(email, name, password, role, agency)
            report.logins.append(DemoLogin(email, password, role, agency))
    report.responses, report.answers = insert_responses(session, responses, seed, end_month, timezone, progress)
    if not has_data:
        _add_short_form_counters(session)
    tallies.rebuild(session)
    audit.record(
        session,
        "seed.demo",
        details={"responses": report.responses, "seed": seed, "append": append, "end_month": end_month.isoformat()},
    )
    session.commit()
    if session.get_bind().dialect.name == "postgresql" and report.responses >= 10_000:
        # Fresh planner statistics after a bulk load, before autovacuum gets round to it: without them
        # PostgreSQL plans the index roll-ups for a near-empty table.
        session.execute(text("ANALYZE responses, answers, stat_answer_tallies, stat_response_tallies"))
        session.commit()
    report.agencies = session.scalar(select(func.count()).select_from(Agency)) or 0
    report.counters = session.scalar(select(func.count()).select_from(Counter)) or 0
    report.seconds = time.perf_counter() - started
    return report
