"""The comment scrubber: each kind of personal data, the ordinary words it must keep, and where it is applied."""

from __future__ import annotations

import logging
import unicodedata
import uuid

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey.db import db
from survey.models import Counter, Response
from survey.services.administration.directory import counter_ref
from survey.services.submissions.scrub import (
    REDACTED,
    clean_comment,
    find_personal_data,
    scrub_personal_data,
)
from survey.services.submissions.store import Submission, store_submission

R = REDACTED


def test_the_issue_example_loses_the_name_as_well_as_the_phone() -> None:
    assert scrub_personal_data("Nhân viên Nguyễn Văn An, SĐT 0912345678") == f"Nhân viên {R}, SĐT {R}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gọi 0912345678 nhé", f"Gọi {R} nhé"),
        ("SĐT 0912.345.678", f"SĐT {R}"),
        ("SĐT 0912-345-678.", f"SĐT {R}."),
        ("số 091 234 5678", f"số {R}"),
        ("số +84 912 345 678", f"số {R}"),
        ("zalo +84912345678", f"zalo {R}"),
        ("gọi 84963590590", f"gọi {R}"),
        ("SĐT: (+84) 962 481 316, mong", f"SĐT: {R}, mong"),
        ("nhà (024) 3825 1234 ạ", f"nhà {R} ạ"),
        ("nhà 024.3825.6789 (riêng)", f"nhà {R} (riêng)"),
        ("ĐT 0236 3822 123", f"ĐT {R}"),
        ("di động 01689 123 456", f"di động {R}"),
        ("số của tôi là 0 9 8 7 6 5 4 3 2 1", f"số của tôi là {R}"),
        ("quầy 3 0912345678", f"quầy 3 {R}"),
        ("(0912345678)", R),
        ("sdt0912345678", f"sdt{R}"),
    ],
    ids=[
        "mobile",
        "dotted",
        "dashed",
        "3-3-4",
        "+84 spaced",
        "+84 plain",
        "84 plain",
        "(+84)",
        "landline in brackets",
        "landline dotted",
        "landline 3-digit area",
        "old 11-digit mobile",
        "digit by digit",
        "counter number kept",
        "bracketed",
        "glued to letters",
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CCCD 001099012345 của tôi", f"CCCD {R} của tôi"),
        ("căn cước 037 096 001 234.", f"căn cước {R}."),
        ("CCCD: 0010 9901 2345", f"CCCD: {R}"),
        ("CCCD 037.096.001.234", f"CCCD {R}"),
        ("CMND 123456789", f"CMND {R}"),
        ("CMND cũ 013456789", f"CMND cũ {R}"),
        ("CMND 164 328 907,", f"CMND {R},"),
    ],
    ids=["cccd", "cccd by threes", "cccd by fours", "cccd dotted", "cmnd", "cmnd with a 0", "cmnd spaced"],
)
def test_id_numbers(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail lan.nguyen+sipas@example.com.vn giúp", f"mail {R} giúp"),
        ("Email: Le.Hoang.Long@Outlook.com.", f"Email: {R}."),
        ("gửi bpmc.hoalu@ninhbinh.gov.vn ạ", f"gửi {R} ạ"),
        ("nick nguyenvanan@gmail", f"nick {R}"),
        ("mail hoangtien88@gmail.com 0988123456", f"mail {R} {R}"),
    ],
    ids=["plus tag", "capitals", "office address", "no top-level domain", "digits in the address"],
)
def test_email_addresses(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chị Lan ở quầy 3 rất nhiệt tình.", f"Chị {R} ở quầy 3 rất nhiệt tình."),
        ("Cảm ơn anh Tuấn nhiều.", f"Cảm ơn anh {R} nhiều."),
        ("ông Trần Quốc Khánh ở quầy đất đai", f"ông {R} ở quầy đất đai"),
        ("Bà Lý Thị Kim thu thêm tiền", f"Bà {R} thu thêm tiền"),
        ("Cô Thu Hà quầy 6 giải thích tận tình", f"Cô {R} quầy 6 giải thích tận tình"),
        ("chú Bảy bảo vệ", f"chú {R} bảo vệ"),
        ("Em Ngọc Ánh ở quầy tư pháp", f"Em {R} ở quầy tư pháp"),
        ("Bác Tư chỉ chỗ để xe", f"Bác {R} chỉ chỗ để xe"),
        ("Cán bộ Phan Thanh Bình bên Tư pháp", f"Cán bộ {R} bên Tư pháp"),
        ("Đồng chí Hà Minh Tuấn phó chủ tịch xã", f"Đồng chí {R} phó chủ tịch xã"),
        ("nv Quân bảo hết số", f"nv {R} bảo hết số"),
        ("a Thắng quầy 1 ok, c Vân quầy 2", f"a {R} quầy 1 ok, c {R} quầy 2"),
        ("Cảm ơn chị H'Nhi đã giúp", f"Cảm ơn chị {R} đã giúp"),
        ("Nguyễn thị Lan ở quầy 2 tốt", f"{R} ở quầy 2 tốt"),
    ],
    ids=[
        "chị",
        "anh",
        "ông + full name",
        "bà + full name",
        "cô + two syllables",
        "chú + sibling rank",
        "em",
        "bác",
        "cán bộ",
        "đồng chí",
        "nv",
        "a/c abbreviations",
        "Ê Đê name",
        "lower-case middle name",
    ],
)
def test_names_after_an_honorific(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chị thảo ở quầy hộ tịch dễ thương", f"chị {R} ở quầy hộ tịch dễ thương"),
        ("anh nguyễn đức thịnh quầy đất đai", f"anh {R} quầy đất đai"),
        ("quầy 7 có chị mai rất dễ thương", f"quầy 7 có chị {R} rất dễ thương"),
        ("cam on anh tuan quay so 2", f"cam on anh {R} quay so 2"),
        ("Nhan vien Tran Thi Hue lam viec rat nhanh", f"Nhan vien {R} lam viec rat nhanh"),
        ("cam on nv lan oanh da huong dan", f"cam on nv {R} da huong dan"),
        ("BÀ NGUYỄN THỊ LOAN Ở QUẦY 1 LÀM VIỆC RẤT TỐT", f"BÀ {R} Ở QUẦY 1 LÀM VIỆC RẤT TỐT"),
        ("tôi là nguyễn văn hải ở tổ 7", f"tôi là {R} ở tổ 7"),
    ],
    ids=[
        "lower-case given name",
        "lower-case full name",
        "everyday word as a name before 'rất'",
        "no diacritics, lower case",
        "no diacritics, capitalised",
        "no diacritics, two syllables",
        "capitals",
        "lower-case self-introduction",
    ],
)
def test_names_in_lower_case_capitals_and_without_diacritics(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tôi tên là Lý Thị Hương, 0987-654-321", f"Tôi tên là {R}, {R}"),
        ("Họ tên: Đinh Thị Mơ. Nội dung: chờ lâu", f"Họ tên: {R}. Nội dung: chờ lâu"),
        ("Người phản ánh: Vũ Khánh Uyên.", f"Người phản ánh: {R}."),
        ("Con tôi tên Bảo Ngọc, 6 tuổi.", f"Con tôi tên {R}, 6 tuổi."),
        ("toi ten hoa, so dien thoai 0902 345 678", f"toi ten {R}, so dien thoai {R}"),
        ("Mẹ tôi là bà Lưu Kim Oanh, 62 tuổi", f"Mẹ tôi là bà {R}, 62 tuổi"),
        ("Lê Bá Tài ở quầy 2 làm việc rất tốt.", f"{R} ở quầy 2 làm việc rất tốt."),
        ("Cảm ơn rất nhiều. Đặng Quốc Bảo", f"Cảm ơn rất nhiều. {R}"),
        ("Cảm ơn Trang và Phúc quầy 2 nha", f"Cảm ơn {R} và {R} quầy 2 nha"),
        ("ĐT: 0775795335 (Uyên)", f"ĐT: {R} ({R})"),
        ("Chị Hoa ở quầy 2, Hoa rất nhiệt tình", f"Chị {R} ở quầy 2, {R} rất nhiệt tình"),
        ("Nhờ anh Kiên, chị Yến và Hương mà xong sớm", f"Nhờ anh {R}, chị {R} và {R} mà xong sớm"),
    ],
    ids=[
        "tên là",
        "Họ tên:",
        "Người phản ánh:",
        "tên + given names",
        "tên, no diacritics, lower case",
        "introducer then honorific",
        "surname first, no honorific",
        "signature",
        "after cảm ơn, joined by và",
        "in brackets after a phone",
        "repeated",
        "a list",
    ],
)
def test_citizens_and_staff_names_without_an_honorific(text: str, expected: str) -> None:
    assert scrub_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bộ phận Một cửa UBND Phường Hoa Lư làm việc nhanh, gọn.",
        "Nên có chỗ gửi xe, phải gửi tận đường Lê Lợi rất xa.",
        "Trụ sở nằm trên phố Trần Hưng Đạo, dễ tìm.",
        "Cán bộ phường Quang Trung hướng dẫn nhiệt tình.",
        "Trường THCS Chu Văn An gần đây, giờ tan học rất đông.",
        "Trường Tiểu học Nguyễn Du gần đó tan học là tắc đường.",
        "Tôi ở đường Nguyễn Thị Minh Khai, quận Hai Bà Trưng, Hà Nội.",
        "Từ Hà Nội về quê làm giấy tờ; tôi ở Cao Bằng, con ở Bà Rịa - Vũng Tàu.",
        "TP. Hồ Chí Minh, Thái Nguyên, Lâm Đồng đều có trung tâm như vậy.",
        "Ông Chủ tịch UBND xã tiếp dân vào thứ Năm.",
        "Đồng chí Phó Chủ tịch phường trực tiếp giải quyết.",
        "Anh Công an khu vực hướng dẫn đăng ký tạm trú.",
        "Nhân viên Bưu điện thu hộ lệ phí; cán bộ Địa chính đo đạc; Cán bộ Tư pháp hộ tịch tốt.",
        "Các bạn Đoàn Thanh niên hỗ trợ người già nộp hồ sơ trực tuyến.",
        "Cảm ơn Trung tâm Phục vụ hành chính công và Công an tỉnh.",
        "Chú ý: cần mang theo bản chính để đối chiếu.",
        "Mai tôi quay lại nộp bổ sung. Thu phí đúng quy định. An ninh tốt.",
        "Cô thu hồ sơ và hẹn 5 ngày; anh sang quầy 5 nộp phí; chị ấy thái độ tốt.",
        "Anh chị cán bộ quầy 2 làm việc rất tốt, em cảm ơn các anh chị ạ.",
        "Thủ tục đăng ký khai sinh, cấp Giấy chứng nhận quyền sử dụng đất, chứng thực bản sao nhanh.",
        "Thay mặt công ty TNHH Minh Phát, cảm ơn bộ phận một cửa; nộp qua VNeID và Zalo rất tiện.",
        "Cô giáo dạy tiếng Anh của con tôi cũng đi làm thủ tục ở đây.",
        "Lấy số 045 lúc 8h, chờ 1 tiếng 15 phút, ngày 12/03/2026 và 12.03.2026, quầy số 11.",
        "Phí 50.000 đồng, 1.200.000đ, 150.000.000 đồng tiền sử dụng đất, 320.000.000 đồng.",
        "Gọi tổng đài 1022, đường dây nóng 1900 561 563 hoặc 1800 1091 không ai nghe.",
        "Theo Nghị định 63/2010/NĐ-CP và Thông tư 01/2022/TT-BTP thì 5 ngày.",
        "rat hai long voi thai do phuc vu, can bo chu dong huong dan rat chu dao",
    ],
)
def test_ordinary_words_and_numbers_survive(text: str) -> None:
    assert scrub_personal_data(text) == text


def test_a_name_joined_to_an_office_ends_the_list() -> None:
    assert (
        scrub_personal_data("Cảm ơn chị Lan, Trung tâm phục vụ rất tốt") == f"Cảm ơn chị {R}, Trung tâm phục vụ rất tốt"
    )
    assert scrub_personal_data("Cảm ơn chị Lan và Công an phường") == f"Cảm ơn chị {R} và Công an phường"


def test_findings_say_what_was_found() -> None:
    text = "Tôi là Tạ Quang Vinh, CMND 013456789, email vinh.ta@gmail.com, SĐT 0912 345 678."
    kinds = [(text[f.start : f.end], f.kind) for f in find_personal_data(text)]
    assert kinds == [
        ("Tạ Quang Vinh", "PER"),
        ("013456789", "ID"),
        ("vinh.ta@gmail.com", "EMAIL"),
        ("0912 345 678", "PHONE"),
    ]


def test_decomposed_unicode_is_composed_before_scrubbing() -> None:
    decomposed = unicodedata.normalize("NFD", "Cảm ơn chị Hương ở quầy 2")
    assert scrub_personal_data(decomposed) == f"Cảm ơn chị {R} ở quầy 2"


def test_clean_comment_normalises_and_drops_empty() -> None:
    assert clean_comment("  \r\n ") is None
    assert clean_comment(None) is None
    assert clean_comment("a\r\nb") == "a\nb"
    assert clean_comment("  Chị Lan\r\ntốt ") == f"Chị {R}\ntốt"


_WORDS = (
    "anh chị Chị cô ông bà nhân viên cán bộ Cán đồng chí nv a c em bé tên là tôi Tôi cảm ơn Cảm gặp và với "
    "Nguyễn Văn An Lan Thu Hà Trần thị Thị nguyễn văn an lan thu hà tuan Tuan chi co Ba ba Y H'Nhi Trung tâm "
    "Công an phường Phường Hoa Lư đường Lê Lợi Hà Nội UBND xã quầy số rất ở nha ạ thái độ mai sang "
    ", . : ; - ( ) ! ? \n 0912 345 678 0912345678 +84 (024) 3825 1234 001099012345 150.000.000 đồng 1900 "
    "@ an@gmail.com mail"
).split(" ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=30), st.sampled_from(["", " ", "  "]))
def test_findings_are_ordered_disjoint_and_inside_the_text(words: list[str], glue: str) -> None:
    text = glue.join(words) if glue else "".join(w + (" " if i % 3 else "") for i, w in enumerate(words))
    findings = find_personal_data(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.kind in ("PER", "PHONE", "ID", "EMAIL")
    for before, after in zip(findings, findings[1:], strict=False):
        assert before.end <= after.start
    bounds = [0, *(x for f in findings for x in (f.start, f.end)), len(text)]
    kept = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    assert scrub_personal_data(text) == R.join(kept)  # everything else is kept as it was


def test_a_stored_comment_and_the_logs_hold_no_removed_data(
    app: Flask, demo: object, caplog: pytest.LogCaptureFixture
) -> None:
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
    comment = "Nhân viên Nguyễn Văn An, SĐT 0912345678, mail an.nv@gmail.com, CCCD 001099012345"
    with caplog.at_level(logging.DEBUG):
        stored = store_submission(
            counter_ref(counter.id), Submission(uuid.uuid4(), answers, comment=comment), "Asia/Ho_Chi_Minh"
        )
    db.session.expire_all()
    response = db.session.get(Response, stored.response_id)
    assert response is not None
    assert response.comment == f"Nhân viên {R}, SĐT {R}, mail {R}, CCCD {R}"
    for secret in ("Nguyễn", "Văn An", "0912345678", "an.nv@gmail.com", "001099012345"):
        assert secret not in caplog.text
