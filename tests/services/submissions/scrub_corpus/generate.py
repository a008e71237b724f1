"""Write the labelled comment corpus for the comment scrubber: tuning.jsonl and heldout.jsonl beside this file.

    .venv/bin/python tests/services/submissions/scrub_corpus/generate.py          # (re)write both files
    .venv/bin/python tests/services/submissions/scrub_corpus/generate.py --check  # exit 1 if they differ

Two sources, both written by hand for this corpus (not taken from real comments, which hold real people's data):

- ``HAND``: comments written one by one, each personal datum marked in place as ``⟦S:…⟧`` (a staff member's
  name), ``⟦C:…⟧`` (a citizen's name: the writer's or a relative's), ``⟦P:…⟧`` (phone), ``⟦I:…⟧`` (CCCD/CMND)
  or ``⟦E:…⟧`` (e-mail). The marks are removed and their exact character offsets kept.
- ``TEMPLATES``: sentences with slots (``{staff}`` an honorific and a name, ``{self}`` a citizen's name,
  ``{phone}``, ``{cccd}``, ``{cmnd}``, ``{email}``, and slots for ordinary words: units, wards, streets,
  procedures, numbers, dates, fees), filled from the pools below with a fixed seed. A comment is then
  kept as written (sentence case, names capitalised), lower-cased, or upper-cased, and with or without
  its diacritics (typed without a Vietnamese keyboard); each change keeps every character in place, so the
  offsets stay exact.

A name span holds the name's syllables only, never the honorific before it ("chị ⟦Lan⟧", "Nhân viên
⟦Nguyễn Văn An⟧"). Streets, wards, schools and provinces named after people ("đường Lê Lợi", "phường
Quang Trung") are places, not personal data, and are not labelled. The hotline numbers of public
services (1022, 1900 …) are not personal data either.

How the parts were made and kept apart (seeds ``SEED``, ``SEED + 2``, ``SEED + 3``); each held-out part was
scored once, by ``benchmarks/scrub_quality.py``, after the rules had been frozen, and its comments were not
read before that score was taken:

- Round 1 (``TEMPLATES``, ``HAND``): a quarter of the templates of each kind and a quarter of the given
  names held out, and about a fifth of the rest. The rules were tuned on the other part ("1"); the held-out
  split ("1h") then scored 94.2 % recall on names, short of the 95 % target.
- Round 2 (``TEMPLATES_ROUND2``, ``HAND_ROUND2``, ``EXTRA_GIVEN_*``): written next, before round 1's held-out
  errors were read, with new sentences and names; round 1 ("1" and "1h") became the tuning part and the
  rules were tuned on it; round 2 ("2h") scored 87.6 % recall on names.
- Round 3 (``TEMPLATES_ROUND3``, ``HAND_ROUND3``, ``EXTRA3_GIVEN_*``): written before round 2's errors were
  read; rounds 1 and 2 became the tuning part, the rules were tuned on it (the lists gained given names,
  but none of round 3's new ones), and round 3 (``heldout.jsonl``) was scored once: 94.0 % recall and
  97.5 % precision on names. Those are the figures reported; its errors were read afterwards only to
  describe them (README), and nothing was tuned after them.

Round 1's texts are unchanged by the later rounds (its random draws come first, from its own seed), and a
text appears in one part only.

Each line of the output: ``{"id", "text", "spans": [[start, end, label, role]], "origin", "variant"}`` with
label ``PER``/``PHONE``/``ID``/``EMAIL`` and role ``staff``/``citizen`` for names (else null), and ``round``
(``1``, ``1h``, ``2h`` in ``tuning.jsonl``; ``3`` in ``heldout.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20261203
HERE = Path(__file__).resolve().parent
HELD_OUT_SHARE = 0.2

# --- Name pools -------------------------------------------------------------------------------------------

# Surnames, weighted roughly by how common they are.
SURNAMES: list[tuple[str, int]] = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 3),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 1),
    ("Ngô", 1),
    ("Dương", 1),
    ("Lý", 1),
    ("Đinh", 1),
    ("Đoàn", 1),
    ("Trương", 1),
    ("Lương", 1),
    ("Lâm", 1),
    ("Trịnh", 1),
    ("Đào", 1),
    ("Cao", 1),
    ("Tạ", 1),
    ("Hà", 1),
    ("Lưu", 1),
    ("Tô", 1),
    ("Kiều", 1),
    ("Quách", 1),
    ("Phùng", 1),
    ("Thái", 1),
    ("Vương", 1),
    ("Châu", 1),
    ("Tăng", 1),
    ("Triệu", 1),
    ("Mạc", 1),
    ("Chu", 1),
    ("Nông", 1),
    ("Lò", 1),
    ("Hứa", 1),
    ("Mai", 1),
    ("Khúc", 1),
    ("Văn", 1),
]
MIDDLE_MALE = [
    "Văn",
    "Văn",
    "Văn",
    "Đức",
    "Hữu",
    "Minh",
    "Quang",
    "Công",
    "Thành",
    "Xuân",
    "Ngọc",
    "Quốc",
    "Đình",
    "Trọng",
    "Tuấn",
    "Gia",
    "Hoàng",
    "Mạnh",
    "Bá",
    "Duy",
    "Hải",
    "Thanh",
    "Tiến",
    "Việt",
    "Khắc",
    "Viết",
    "Anh",
    "Chí",
    "Huy",
    "Trung",
]
MIDDLE_FEMALE = [
    "Thị",
    "Thị",
    "Thị",
    "Thị",
    "Ngọc",
    "Thu",
    "Thanh",
    "Minh",
    "Kim",
    "Hồng",
    "Phương",
    "Thùy",
    "Bích",
    "Diệu",
    "Hoài",
    "Khánh",
    "Mỹ",
    "Như",
    "Quỳnh",
    "Bảo",
    "Cẩm",
    "Hải",
    "Tuyết",
    "Lan",
    "Mai",
    "Thảo",
]
GIVEN_MALE = [
    "An",
    "Anh",
    "Bảo",
    "Bình",
    "Cường",
    "Chiến",
    "Công",
    "Dũng",
    "Duy",
    "Dương",
    "Đạt",
    "Định",
    "Đông",
    "Đức",
    "Giang",
    "Hải",
    "Hào",
    "Hiếu",
    "Hiệp",
    "Hòa",
    "Hoàng",
    "Huy",
    "Hùng",
    "Hưng",
    "Hậu",
    "Khang",
    "Khánh",
    "Khoa",
    "Kiên",
    "Lâm",
    "Long",
    "Lộc",
    "Lợi",
    "Luân",
    "Minh",
    "Nam",
    "Nghĩa",
    "Nhân",
    "Phát",
    "Phong",
    "Phúc",
    "Quân",
    "Quang",
    "Quý",
    "Sang",
    "Sơn",
    "Tài",
    "Tâm",
    "Tân",
    "Thái",
    "Thành",
    "Thắng",
    "Thịnh",
    "Thuận",
    "Tiến",
    "Toàn",
    "Trí",
    "Trọng",
    "Trung",
    "Trường",
    "Tú",
    "Tuấn",
    "Tùng",
    "Vinh",
    "Việt",
    "Vũ",
    "Khải",
    "Lực",
    "Nhật",
    "Phú",
    "Quyết",
    "Sỹ",
    "Thiện",
    "Tín",
    "Tường",
    "Vĩnh",
    "Bằng",
    "Cảnh",
    "Chính",
    "Doanh",
    "Hoan",
    "Kha",
    "Lĩnh",
    "Mạnh",
    "Ngọc",
    "Quốc",
    "Thạch",
    "Toản",
    "Tuyên",
    "Uy",
    "Văn",
    "Xuân",
    "Đạo",
    "Hạ",
    "Khiêm",
    "Lập",
    "Nguyên",
    "Phước",
    "Sinh",
    "Tấn",
    "Thông",
    "Vượng",
]
GIVEN_FEMALE = [
    "Anh",
    "Ánh",
    "Bích",
    "Châu",
    "Chi",
    "Dung",
    "Duyên",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hiền",
    "Hoa",
    "Hòa",
    "Hồng",
    "Huệ",
    "Hương",
    "Huyền",
    "Lan",
    "Liên",
    "Linh",
    "Loan",
    "Ly",
    "Mai",
    "My",
    "Nga",
    "Ngân",
    "Ngọc",
    "Nhung",
    "Nhi",
    "Oanh",
    "Phượng",
    "Phương",
    "Quyên",
    "Quỳnh",
    "Tâm",
    "Thảo",
    "Thắm",
    "Thơ",
    "Thu",
    "Thủy",
    "Thúy",
    "Thư",
    "Trang",
    "Trâm",
    "Tuyết",
    "Uyên",
    "Vân",
    "Vy",
    "Xuân",
    "Yến",
    "Diệp",
    "Gấm",
    "Hậu",
    "Khuê",
    "Lệ",
    "Lụa",
    "Mơ",
    "Nhàn",
    "Như",
    "Sen",
    "Sương",
    "Thanh",
    "Thoa",
    "Thương",
    "Tiên",
    "Trinh",
    "Tươi",
    "Hảo",
    "Hường",
    "Kiều",
    "Lài",
    "Lành",
    "Lộc",
    "Mến",
    "Nguyệt",
    "Nhạn",
    "Phấn",
    "Quế",
    "Tố",
    "Tuyền",
    "Vi",
    "Xuyến",
    "Ý",
    "Đào",
    "Hạ",
    "Kim",
    "Lam",
    "Ngà",
    "Duyên",
]
HONORIFIC_MALE = [("anh", 24), ("chú", 7), ("ông", 5), ("em", 5), ("bác", 2), ("thầy", 1), ("a", 1)]
HONORIFIC_FEMALE = [("chị", 24), ("cô", 9), ("bà", 5), ("em", 5), ("bác", 1), ("dì", 1), ("c", 1)]
HONORIFIC_ANY = [("nhân viên", 12), ("cán bộ", 12), ("đồng chí", 3), ("bạn", 2), ("nv", 2)]

# --- Ordinary words that must survive ---------------------------------------------------------------------

WARDS = [
    "Hoa Lư",
    "Tân Lập",
    "Bến Thành",
    "Quang Trung",
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Minh Khai",
    "Đông Hòa",
    "Thanh Bình",
    "Hòa Khánh",
    "Phúc Xá",
    "Nam Thành",
    "Ninh Sơn",
    "Bích Đào",
    "Tân Định",
    "Hiệp Phú",
    "Ninh Hải",
    "Yên Hòa",
    "Long Biên",
    "Phú Lợi",
    "Võ Thị Sáu",
    "Nguyễn Trãi",
    "Hồng Hải",
    "Kim Mã",
]
STREETS = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Lê Duẩn",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Phan Chu Trinh",
    "Phan Bội Châu",
    "Võ Thị Sáu",
    "Nguyễn Thị Minh Khai",
    "Trần Phú",
    "Hùng Vương",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
    "Nguyễn Văn Cừ",
    "Lê Thánh Tông",
    "Tràng Tiền",
    "Xuân Thủy",
    "Đinh Tiên Hoàng",
    "Lê Hồng Phong",
    "Tôn Đức Thắng",
    "Quang Trung",
]
SCHOOLS = [
    "Tiểu học Nguyễn Du",
    "THCS Lê Quý Đôn",
    "THPT Trần Phú",
    "Mầm non Hoa Sen",
    "THCS Chu Văn An",
    "Tiểu học Kim Đồng",
    "THPT Nguyễn Huệ",
]
PROVINCES = [
    "Hà Nội",
    "TP. Hồ Chí Minh",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Ninh Bình",
    "Nghệ An",
    "Thanh Hóa",
    "Cao Bằng",
    "Lâm Đồng",
    "Đồng Nai",
    "Bà Rịa - Vũng Tàu",
    "Thái Nguyên",
    "Hà Tĩnh",
    "Quảng Ninh",
    "Bình Dương",
    "Lạng Sơn",
    "Hà Giang",
    "Tây Ninh",
    "An Giang",
    "Khánh Hòa",
    "Gia Lai",
    "Đắk Lắk",
    "Bắc Ninh",
    "Hưng Yên",
    "Vĩnh Long",
    "Lào Cai",
    "Huế",
    "Thái Bình",
    "Hòa Bình",
    "Long An",
]
DISTRICTS = [
    "Long Biên",
    "Cầu Giấy",
    "Hoàn Kiếm",
    "Thủ Đức",
    "Bình Thạnh",
    "Tân Bình",
    "Hải Châu",
    "Ngô Quyền",
    "Lê Chân",
    "Hoa Lư",
    "Tam Điệp",
    "Gia Viễn",
    "Đống Đa",
    "Ba Đình",
    "Hoàng Mai",
    "Nam Từ Liêm",
]
UNITS = [
    "Bộ phận Một cửa phường {ward}",
    "UBND phường {ward}",
    "UBND xã {ward}",
    "Trung tâm Phục vụ hành chính công",
    "Bộ phận Một cửa",
    "Công an phường {ward}",
    "Chi cục Thuế khu vực {district}",
    "Văn phòng Đăng ký đất đai chi nhánh {district}",
    "Trung tâm Phục vụ hành chính công tỉnh {province}",
    "Bảo hiểm xã hội quận {district}",
    "Phòng Tài nguyên và Môi trường",
    "Sở Tư pháp",
]
PROCEDURES = [
    "đăng ký khai sinh",
    "đăng ký kết hôn",
    "đăng ký khai tử",
    "chứng thực bản sao",
    "chứng thực chữ ký",
    "cấp Giấy chứng nhận quyền sử dụng đất",
    "đăng ký biến động đất đai",
    "cấp phiếu lý lịch tư pháp",
    "đăng ký thường trú",
    "đăng ký tạm trú",
    "cấp đổi giấy phép lái xe",
    "đăng ký hộ kinh doanh",
    "cấp giấy phép xây dựng",
    "xác nhận tình trạng hôn nhân",
    "trợ cấp thất nghiệp",
    "cấp thẻ BHYT",
    "cấp sổ đỏ",
    "tách thửa",
    "làm CCCD",
    "trích lục hộ tịch",
    "cấp lại bản sao giấy khai sinh",
]
DEPARTMENTS = [
    "tư pháp - hộ tịch",
    "địa chính",
    "đất đai",
    "hộ tịch",
    "văn hóa - xã hội",
    "một cửa",
    "thuế",
    "lao động - thương binh và xã hội",
    "Tư pháp",
    "Địa chính",
]
FEES = [
    "50.000 đồng",
    "1.200.000đ",
    "150.000.000 đồng tiền sử dụng đất",
    "2.000 đồng/trang",
    "30.000đ",
    "500 nghìn",
    "2,5 triệu",
    "100.000 VNĐ",
    "320.000.000 đồng",
]
DATES = ["12/03/2026", "5/11", "ngày 20/4", "15-4-2026", "12.03.2026", "thứ Hai tuần trước", "hôm 3/9"]
HOTLINES = ["1022", "1900 1234", "1900 561 563", "1800 1091", "113", "0258.1022"]
LEGAL = ["Nghị định 63/2010/NĐ-CP", "Thông tư 01/2022/TT-BTP", "Quyết định 2640/QĐ-BNV", "Nghị định 118/2025/NĐ-CP"]
REAL_ROLES = [
    "Chủ tịch UBND xã",
    "Phó Chủ tịch phường",
    "Trưởng Công an phường",
    "Giám đốc Trung tâm",
    "Trưởng phòng Tư pháp",
    "Bí thư Đảng ủy",
]

# --- Templates --------------------------------------------------------------------------------------------
# {staff}/{Staff}: an honorific (capitalised for {Staff}) and a staff member's name; {staff_name}: a staff
# member's full name without honorific; {self}: a citizen's name (full or given); {self_full}: full name;
# {mother}/{father}/{child}: a relative's name; {phone}, {cccd}, {cmnd}, {email}; ordinary slots: {n}
# (counter number), {m} (minutes), {proc}, {dept}, {unit}, {ward}, {street}, {school}, {province},
# {district}, {fee}, {date}, {hotline}, {legal}, {role}, {age}.

TEMPLATES: dict[str, list[str]] = {
    "staff_praise": [
        "{Staff} ở quầy số {n} hướng dẫn rất tận tình, cảm ơn nhiều.",
        "Cảm ơn {staff} đã hướng dẫn tôi làm hồ sơ {proc} rất chu đáo.",
        "Rất hài lòng với thái độ phục vụ của {staff}.",
        "{Staff} làm việc nhanh, chuyên nghiệp, giải thích dễ hiểu.",
        "Tôi muốn khen {staff} ở bộ phận {dept}, rất nhiệt tình với người già.",
        "{Staff} hỗ trợ tôi điền tờ khai, không phải đi lại nhiều lần.",
        "Hồ sơ {proc} được {staff} tiếp nhận và trả kết quả đúng hẹn.",
        "Đề nghị khen thưởng {staff}, cán bộ {dept}, vì thái độ phục vụ tốt.",
        "Quầy {n} có {staff} rất dễ thương, vui vẻ.",
        "Mình cảm ơn {staff} nhiều nha, làm nhanh lắm.",
        "{Staff} niềm nở, hướng dẫn từng bước trên Cổng dịch vụ công.",
        "Lần đầu đi làm {proc} mà được {staff} chỉ dẫn kỹ, rất cảm ơn.",
        "Nhờ {staff} mà tôi làm xong thủ tục trong một buổi sáng.",
        "Gia đình tôi cảm ơn {staff} và các anh chị ở {unit}.",
        "Người tiếp nhận hồ sơ là {staff}, làm việc rất có trách nhiệm.",
        "10 điểm cho {staff} quầy {n}!",
        "Cán bộ {dept} là {staff} giải quyết hồ sơ đúng hạn, không gây phiền hà.",
        "Tôi được {staff} gọi điện báo bổ sung giấy tờ, rất chu đáo.",
        "Xin cảm ơn {staff} và {staff} đã giúp mẹ tôi làm {proc}.",
        "{Staff} tuy trẻ nhưng nắm quy định rất chắc, trả lời được hết câu hỏi của tôi.",
        "Khen {staff}: chờ có {m} phút là xong.",
        "{Staff} chủ động hướng dẫn người dân lấy số thứ tự, rất văn minh.",
    ],
    "staff_complaint": [
        "{Staff} ở quầy {n} thái độ không tốt, nói trống không với người dân.",
        "Tôi phải chờ {m} phút trong khi {staff} dùng điện thoại riêng.",
        "Đề nghị lãnh đạo nhắc nhở {staff}, hẹn trả kết quả mà không trả.",
        "{Staff} yêu cầu bổ sung giấy tờ không có trong quy định.",
        "Không hài lòng với cách làm việc của {staff} bộ phận {dept}.",
        "{Staff} bảo tôi về photo thêm 3 bản, lần trước đã nộp đủ rồi.",
        "Hồ sơ của tôi bị {staff} trả lại 2 lần mà không ghi rõ lý do.",
        "Buổi chiều {staff} đến muộn, 14h30 mới mở quầy.",
        "{Staff} quát người dân, không xứng đáng là cán bộ {unit}.",
        "Phản ánh {staff} thu thêm {fee} ngoài quy định, không có biên lai.",
        "Tôi hỏi thủ tục {proc} thì {staff} bảo lên mạng mà xem.",
        "{Staff} nói chuyện riêng với đồng nghiệp, để người dân chờ {m} phút.",
        "Đề nghị xem lại việc {staff} hẹn tôi 3 lần vẫn chưa có kết quả {proc}.",
        "Ko hài lòng với {staff}, hỏi gì cũng bảo không biết.",
        "{Staff} ở quầy {n} nghỉ trưa sớm từ 11h, người dân phải về.",
        "Tôi không muốn phàn nàn nhưng {staff} làm việc quá chậm.",
    ],
    "staff_bare": [
        "{staff_name} ở quầy {n} làm việc rất tốt.",
        "Cán bộ tiếp nhận: {staff_name}. Thái độ: tốt.",
        "Tôi đánh giá cao {staff_name} ở {unit}.",
        "Đề nghị biểu dương {staff_name}, quầy {dept}.",
        "Người hướng dẫn tôi là {staff_name}, rất nhiệt tình.",
        "Phản ánh về {staff_name}: hay đi muộn, quầy {n} không có người.",
    ],
    "citizen_self": [
        "Tôi là {self_full}, ở tổ 5 phường {ward}. Hồ sơ {proc} nộp từ {date} chưa có kết quả.",
        "Tôi tên {self}, muốn hỏi tiến độ hồ sơ {proc} nộp {date}.",
        "Họ tên: {self_full}. Nội dung: chờ quá lâu, quầy {n} chỉ có một người làm.",
        "Chờ {m} phút mới đến lượt. Người phản ánh: {self_full}.",
        "Mẹ tôi là bà {mother}, năm nay {age} tuổi, được cán bộ ưu tiên làm trước, cảm ơn nhiều.",
        "Con tôi tên {child}, làm khai sinh rất nhanh.",
        "Tôi, {self_full}, đề nghị trả lời bằng văn bản về việc chậm {proc}.",
        "Em là {self} ạ, em hỏi thủ tục {proc} cần những giấy tờ gì ạ?",
        "Cảm ơn {unit} rất nhiều. {self_full}",
        "Bố tôi là ông {father} đã mất, làm khai tử nhanh gọn.",
        "Tôi tên là {self_full}, {age} tuổi, đi lại khó khăn, mong có dịch vụ tại nhà.",
        "{self_full} - khu phố 3, phường {ward}: đề nghị có thêm ghế chờ.",
        "Hồ sơ đất của gia đình ông {father} ở thôn Đông đã nộp 3 tháng mà chưa xong.",
        "Mình là {self}, sinh viên, làm {proc} nhanh và rẻ.",
        "Người gửi: {self_full}. Xin cảm ơn cán bộ quầy {n}.",
        "Vợ tôi là {mother} đã nộp hồ sơ {proc} thay tôi, cán bộ nhận nhanh.",
    ],
    "contact": [
        "Cần tư vấn thêm về {proc}, gọi cho tôi số {phone}.",
        "SĐT của tôi: {phone}, mong cán bộ liên hệ lại.",
        "Liên hệ: {self_full} - {phone}",
        "Có gì nhắn Zalo {phone} giúp em.",
        "Đề nghị gửi kết quả qua email {email}.",
        "Tôi đã gửi hồ sơ bổ sung qua {email} nhưng chưa ai phản hồi.",
        "Số điện thoại {phone} hoặc email {email}.",
        "ĐT: {phone} ({self})",
        "Mong được gọi lại theo số {phone} trong giờ hành chính.",
        "Nếu thiếu giấy tờ thì báo giúp tôi qua số {phone}, cảm ơn.",
        "sđt {phone}, có kết quả {proc} thì nhắn tôi nhé.",
        "Email của tôi là {email}, xin gửi danh mục giấy tờ cần thiết.",
        "Tôi ở xa, mong cán bộ gọi {phone} trước khi trả hồ sơ.",
        "Gửi giúp tôi biên nhận qua mail: {email}",
        "Liên lạc với tôi qua số điện thoại {phone} hoặc {phone}.",
        "Điện thoại nhà riêng: {landline}, di động: {phone}.",
        "Mail: {email}",
        "Có kết quả thì gửi về {email} giúp tôi.",
        "Nhờ cán bộ gửi mẫu tờ khai vào hộp thư {email} ạ.",
        "{email} - đây là địa chỉ nhận thông báo của tôi.",
        "Tôi không dùng Zalo, xin liên hệ qua {email} hoặc gọi {phone}.",
    ],
    "id_number": [
        "CCCD của tôi là {cccd}, đã nộp hồ sơ {date} mà chưa có giấy hẹn.",
        "Số CMND {cmnd} bị ghi sai trong giấy chứng nhận, đề nghị sửa.",
        "Tra cứu hồ sơ theo số căn cước {cccd} không ra kết quả.",
        "Tôi làm lại CCCD mới số {cccd}, cũ là CMND {cmnd}, cần cập nhật trên sổ đỏ.",
        "Mã định danh cá nhân {cccd} của con tôi chưa có trên hệ thống.",
        "Giấy tờ tùy thân: {cccd}. Đề nghị kiểm tra lại thông tin hộ khẩu.",
        "Số chứng minh nhân dân cũ {cmnd}, nay đã đổi sang căn cước.",
        "Hồ sơ đứng tên tôi, CCCD số {cccd}, nộp ở quầy {n}.",
        "Nhập CCCD {cccd} trên VNeID báo lỗi, mong hướng dẫn.",
        "Số định danh {cccd} bị trùng với người khác, đề nghị xử lý.",
    ],
    "mixed": [
        "Nhân viên {staff_name}, SĐT {phone} rất nhiệt tình.",
        "Tôi là {self_full}, CCCD {cccd}, SĐT {phone}, phản ánh {staff} ở quầy {n} thu thêm tiền.",
        "{Staff} cho tôi số {phone} để hỏi tiến độ, rất chu đáo.",
        "Tôi tên {self_full}, email {email}, đề nghị {unit} trả lời về hồ sơ {proc}.",
        "{self_full}, CMND {cmnd}, ĐT {phone}: hồ sơ {proc} quá hạn {m} ngày.",
        "Cảm ơn {staff}. Có gì liên hệ {self} số {phone} nhé.",
        "Người nộp: {self_full} ({phone}). Cán bộ nhận: {staff}.",
        "Họ và tên: {self_full}; Số CCCD: {cccd}; Điện thoại: {phone}; Ý kiến: {staff} làm việc tốt.",
    ],
    "clean": [
        "Cán bộ tiếp nhận hồ sơ nhiệt tình, hướng dẫn chu đáo.",
        "Chờ lâu quá, gần {m} phút mới đến lượt.",
        "Đề nghị bố trí thêm ghế ngồi chờ và quạt mát.",
        "{unit} làm việc nhanh, gọn.",
        "Thủ tục {proc} chỉ mất {m} phút, rất hài lòng.",
        "Lệ phí {fee} nhưng không có biên lai.",
        "Trả kết quả đúng hẹn {date}.",
        "Nên có chỗ gửi xe cho người dân, phải gửi tận đường {street} rất xa.",
        "Trụ sở {unit} nằm trên phố {street}, dễ tìm.",
        "Máy lấy số thứ tự bị hỏng, quầy {n} gọi số lộn xộn.",
        "Gọi tổng đài {hotline} không ai nghe.",
        "Anh chị cán bộ quầy {n} làm việc rất tốt.",
        "Chị cán bộ ở quầy {n} hướng dẫn tận tình.",
        "Anh bảo vệ hướng dẫn chỗ để xe chu đáo.",
        "Em cảm ơn các anh chị ạ.",
        "Chị ấy giải thích rất dễ hiểu.",
        "Cô thu hồ sơ và hẹn 5 ngày làm việc.",
        "Mai tôi quay lại nộp bổ sung.",
        "Chú ý: cần mang theo bản chính để đối chiếu.",
        "Tháng trước tôi đi làm thủ tục ở {unit}, mọi thứ ổn.",
        "Hồ sơ nộp qua Cổng Dịch vụ công quốc gia được xử lý nhanh.",
        "UBND phường {ward} nên mở cửa sáng thứ Bảy.",
        "Theo {legal} thì thời hạn giải quyết là 5 ngày, nhưng tôi chờ 2 tuần.",
        "Tôi đến từ {province}, làm thủ tục {proc} ở {unit} rất thuận tiện.",
        "Trường {school} gần đây nên giờ tan học rất đông, khó gửi xe.",
        "Phòng Tài nguyên và Môi trường trả hồ sơ chậm 2 tuần.",
        "Cán bộ Tư pháp hộ tịch làm việc chuyên nghiệp.",
        "Nhân viên Bưu điện thu hộ lệ phí nhanh.",
        "Cán bộ Địa chính xã đo đạc chậm.",
        "Bà con ở thôn Đông đi làm thủ tục xa, mong có điểm tiếp nhận lưu động.",
        "Cảm ơn Trung tâm Phục vụ hành chính công tỉnh {province}.",
        "Anh Công an khu vực hướng dẫn đăng ký tạm trú.",
        "Ông {role} tiếp dân vào thứ Năm hằng tuần, rất cởi mở.",
        "Đồng chí {role} trực tiếp giải quyết vướng mắc.",
        "Các bạn Đoàn Thanh niên hỗ trợ người già nộp hồ sơ trực tuyến.",
        "Hội Phụ nữ phường tổ chức hướng dẫn rất hay.",
        "Quầy số {n} mở lúc 7h30, đóng 11h30.",
        "Tôi {age} tuổi, đi lại khó khăn, mong có dịch vụ tại nhà.",
        "Giấy hẹn ghi {date} nhưng một tuần sau mới có.",
        "Cần bổ sung bản sao CCCD thì nên ghi rõ từ đầu.",
        "Số điện thoại đường dây nóng dán ở cửa bị mờ, không đọc được.",
        "Chờ 1 tiếng 15 phút, quầy {n} chỉ có 1 người làm.",
        "Nộp {fee}, thủ tục {proc} xong trong ngày.",
        "Từ {province} về quê làm giấy tờ, chỉ mất nửa ngày.",
        "Chị nhân viên trẻ ở quầy {n} nói hơi nhanh, người già khó nghe.",
        "Em chờ từ 8h đến 10h mới được gọi.",
        "Anh ấy bảo mai quay lại, mà mai là chủ nhật.",
        "Thu phí đúng quy định, không gây khó dễ.",
        "An ninh ở khu vực trụ sở tốt, xe để an toàn.",
        "Nhân viên Một cửa làm việc đúng giờ.",
        "Cán bộ quận {district} phối hợp tốt với phường.",
        "Xin cảm ơn Bộ phận Một cửa và Công an xã {ward}.",
        "Thủ tục {proc} theo {legal} còn rườm rà.",
        "Cô chú cán bộ lớn tuổi rất kiên nhẫn.",
        "Bác bảo vệ chỉ đường tận tình.",
        "Chú ý giùm chỗ để xe máy, trời mưa bị ướt hết.",
        "Lấy số 045 lúc 8h, 10h mới tới lượt.",
        "Trả kết quả qua bưu điện rất tiện, phí 30.000đ.",
        "Ý kiến: nên có nước uống miễn phí cho người dân chờ.",
        "Đường {street} trước trụ sở hay bị ngập, đi lại khó.",
    ],
}
# fmt: on

# --- Hand-written comments ----------------------------------------------------------------------------------

HAND = [
    "Nhân viên ⟦S:Nguyễn Văn An⟧, SĐT ⟦P:0912345678⟧ hướng dẫn rất nhiệt tình.",
    "Chị ⟦S:Hằng⟧ quầy 4 làm nhanh lắm, 10 phút là xong.",
    "cam on anh ⟦S:tuan⟧ quay so 2 da giup do",
    "Thái độ của cán bộ ⟦S:Lê Thị Thu Trang⟧ rất tệ, tôi hỏi thì không trả lời.",
    "Toi ten la ⟦C:Pham Van Duc⟧, sdt ⟦P:0983 112 456⟧, can hoi ve ho so cap so do.",
    "Đề nghị UBND phường Hoa Lư bố trí thêm chỗ ngồi chờ.",
    "Bộ phận Một cửa làm việc rất khoa học, cảm ơn.",
    "Em ⟦S:Ngọc Ánh⟧ ở quầy tư pháp dễ thương, hướng dẫn từng chút một.",
    "Ông ⟦S:Trần Quốc Khánh⟧ ở quầy đất đai cứ hẹn lần hẹn lữa.",
    "Liên hệ lại giúp tôi qua zalo ⟦P:0868.123.789⟧ hoặc mail ⟦E:thuhuong.ng@gmail.com⟧",
    "Số CCCD ⟦I:037185004321⟧ bị nhập sai ngày sinh trên phần mềm, mong sửa giúp.",
    "Tôi nộp hồ sơ ngày 05/11, hẹn 12/11 nhưng đến nay 20/11 chưa có kết quả.",
    "cán bộ ⟦S:hoàng⟧ làm việc rất có trách nhiệm",
    "Mình là ⟦C:Vy⟧, sinh viên, làm chứng thực bản sao nhanh và rẻ.",
    "BÀ ⟦S:NGUYỄN THỊ LOAN⟧ Ở QUẦY 1 LÀM VIỆC RẤT TỐT",
    "Ko hài lòng, chờ 2 tiếng. nv ⟦S:Quân⟧ bảo hết số rồi mai quay lại.",
    "Chú bảo vệ rất nhiệt tình dắt xe giúp người già.",
    "Tôi tên ⟦C:Đinh Thị Mơ⟧ 72 tuổi, cảm ơn các cháu cán bộ đã giúp bà làm giấy tờ.",
    "Con trai tôi là ⟦C:Lò Văn Páo⟧, làm CCCD ở công an xã nhanh.",
    "Đồng chí ⟦S:Hà Minh Tuấn⟧ phó chủ tịch xã tiếp dân rất cởi mở.",
    "Đường Lê Lợi trước trụ sở hay bị ngập, đi lại khó.",
    "Trường Tiểu học Nguyễn Du gần đó tan học là tắc đường.",
    "nv ⟦S:Hương⟧ quầy 3 đt ⟦P:0977 456 321⟧ ai cần thì gọi, chị nhiệt tình lắm",
    "Em cảm ơn chị ⟦S:Diệu Linh⟧ nhiều ạ 😊",
    "Phí công chứng hợp đồng mua bán nhà 1.250.000 đồng, có hóa đơn đầy đủ.",
    "Mong lãnh đạo xem xét, hồ sơ đất của gia đình ông ⟦C:Bùi Văn Tý⟧ thôn Đông, xã Ninh Hải đã nộp 3 tháng.",
    "tổng đài 1022 gọi mãi không được",
    "Email của em: ⟦E:phamthanhtam1999@yahoo.com.vn⟧, có gì báo em nhé.",
    "anh ⟦S:Khoa⟧ với chị ⟦S:Nhung⟧ làm chung quầy nhưng chỉ có anh ⟦S:Khoa⟧ làm việc.",
    "CMND cũ ⟦I:164 328 907⟧, CCCD mới ⟦I:037 096 001 234⟧, xin tích hợp thông tin.",
    "Gọi cho tôi: ⟦P:+84 903 221 876⟧ (đang ở nước ngoài, về làm thủ tục thừa kế).",
    "Cảm ơn Trung tâm Phục vụ hành chính công tỉnh Ninh Bình.",
    "Cán bộ quầy số 5 (chị đeo kính) thái độ hách dịch.",
    "Tôi ⟦C:Trương Thị Bích Ngọc⟧ phản ánh: máy lấy số hỏng 3 ngày rồi.",
    "sđt nhà ⟦P:(0229) 3871 456⟧ ạ, ban ngày gọi di động ⟦P:0945 678 123⟧",
    "Thủ tục đăng ký kết hôn ở phường Bến Thành nhanh gọn, không phải chờ.",
    "Anh ⟦S:Dũng⟧ bên địa chính xuống đo đất đúng hẹn, cảm ơn anh ⟦S:Dũng⟧.",
    "chị ⟦S:thảo⟧ ở quầy hộ tịch dễ thương",
    "Ông Chủ tịch UBND xã nên tiếp dân thường xuyên hơn.",
    "ban ⟦S:Minh Thu⟧ huong dan nhiet tinh lam, 10 diem",
    "Cô ⟦S:Sáu⟧ ở quầy 1 lớn tuổi nhưng làm nhanh hơn cả mấy bạn trẻ.",
    "Đề nghị gửi thông báo qua số ⟦P:0393-456-789⟧ khi có kết quả.",
    "Tôi đã gửi mail tới ⟦E:bpmc.hoalu@ninhbinh.gov.vn⟧ hai lần mà không thấy trả lời.",
    "Lâu quá!!! 9h sáng lấy số 045, 11h mới tới lượt",
    "tôi là ⟦C:nguyễn văn hải⟧ ở tổ 7, muốn hỏi về trợ cấp",
    "Gia đình tôi cảm ơn anh ⟦S:Lâm⟧, chị ⟦S:Yến⟧ và các anh chị ở Bộ phận Một cửa.",
    "Người dân phải tự photo, trong khi quy định là cán bộ chụp lại.",
    "nhân viên tên ⟦S:Hạnh⟧ quầy thuế nói chuyện rất khó nghe",
    "Cảm ơn ⟦S:Trang⟧ và ⟦S:Phúc⟧ quầy 2 nha",
    "Thay mặt công ty TNHH Minh Phát, cảm ơn bộ phận một cửa.",
    "cccd ⟦I:001203004567⟧ cua con toi chua co ma dinh danh, huong dan giup",
    "Số điện thoại của tôi là ⟦P:0 9 8 7 6 5 4 3 2 1⟧",
    "hotline 1900 561 563 của sở không ai nghe máy",
    "Được anh ⟦S:Tài⟧ hướng dẫn nộp trực tuyến qua VNeID, rất tiện.",
    "Người nhận hồ sơ: ⟦S:Nguyễn Minh Tâm⟧. Thái độ tốt.",
    "Tôi muốn phản ánh bà ⟦S:Lý Thị Kim⟧ thu thêm 200.000 đồng không có biên lai.",
    "Quầy ngân hàng Agribank trong trung tâm tiện nộp phí.",
    "E chào a/c, cho e hỏi làm lại giấy khai sinh bản sao cần gì ạ. sđt e ⟦P:0356789012⟧",
    "Dạ con cảm ơn cô ⟦S:Hoa⟧ với chú ⟦S:Bảy⟧ nhiều lắm ạ",
    "Cán bộ hộ tịch phường Quang Trung làm việc rất tốt.",
    "Cán bộ ⟦S:Phan Thanh Bình⟧ bên Tư pháp giải quyết hồ sơ đúng hạn.",
    "Từ Hà Nội về quê làm giấy tờ, chỉ mất nửa ngày, rất tốt.",
    "Tôi ở Cao Bằng xuống, đường xa nhưng làm được ngay trong ngày.",
    "chi oi lam on goi lai cho em so ⟦P:0914 222 333⟧ nhe",
    "Cảm ơn em ⟦S:Tú⟧ đã chụp giúp bác giấy tờ.",
    "Ý kiến: nên có nước uống miễn phí cho người dân chờ.",
    "⟦C:Lê Hoàng Long⟧ - KP3 phường Tân Lập",
    "Thư điện tử: ⟦E:Le.Hoang.Long@Outlook.com⟧",
    "chi ⟦S:Lan⟧ quay 3 nhiet tinh, chi ⟦S:Huong⟧ quay 4 thi hoi cham",
    "Đợi cả buổi sáng, anh cán bộ nói hệ thống lỗi.",
    "Cô ⟦S:Thu Hà⟧ quầy 6 giải thích tận tình cho bà cụ không biết chữ.",
    "Tôi ⟦C:Tạ Quang Vinh⟧, CMND ⟦I:013456789⟧, đề nghị cấp lại bản sao trích lục.",
    "Ban quản lý chợ Đông Ba nên phối hợp giữ trật tự trước trụ sở.",
    "Quầy số 2 ngày 14/10/2026 không có người, phải chờ 40 phút.",
    "Con chào cô ⟦S:Mai⟧ ạ, cảm ơn cô.",
    "Mai em quay lại bổ sung giấy tờ ạ.",
    "Thu phí đúng quy định, không gây khó dễ.",
    "An ninh trật tự ở khu vực trụ sở tốt.",
    "Hà Nội mùa này đông người đi làm giấy tờ quá.",
    "Xuân này về quê làm lại sổ hộ khẩu, thấy thủ tục gọn hơn trước.",
    "Nhờ anh ⟦S:Kiên⟧ mà tôi làm xong thủ tục trong 1 buổi.",
    "ông ⟦C:Ngô Văn Sáng⟧ (bố tôi) 85 tuổi được phục vụ tận nhà, cảm ơn UBND xã.",
    "Cán bộ trẻ, nhiệt tình, nhưng nên nói chậm hơn với người già.",
    "Gửi UBND: đề nghị xem lại việc thu phí trông xe 5.000đ/lượt.",
    "Hồ sơ thừa kế của bà ⟦C:Đoàn Thị Xuyến⟧ đã quá hạn 10 ngày.",
    "a ⟦S:Thắng⟧ quầy 1 ok, c ⟦S:Vân⟧ quầy 2 hơi khó tính",
    "Cảm ơn đồng chí Trưởng Công an phường đã chỉ đạo giải quyết nhanh.",
    "Email: ⟦E:dinhthimo.1954@gmail.com⟧ - nhờ con gửi hộ",
    "Người hướng dẫn là bạn ⟦S:Khánh Linh⟧, sinh viên tình nguyện Đoàn Thanh niên.",
    "TÔI RẤT HÀI LÒNG VỚI THÁI ĐỘ PHỤC VỤ CỦA CÁN BỘ PHƯỜNG",
    "Bác ⟦S:Tư⟧ bảo vệ chỉ chỗ để xe rất nhiệt tình",
    "ĐT liên hệ ⟦P:024.3825.6789⟧ (nhà riêng)",
    "Nhan vien ⟦S:Tran Thi Hue⟧ lam viec rat nhanh va chinh xac",
    "toi ten ⟦C:hoa⟧, so dien thoai ⟦P:0902 345 678⟧",
    "Cảm ơn chị ⟦S:H'Nhi⟧ đã giúp tôi làm thủ tục cấp sổ đỏ.",
    "Phường Hoa Lư có cán bộ trẻ, nhiệt tình; Bộ phận Một cửa sạch sẽ.",
    "Hồ sơ xin cấp giấy phép xây dựng nộp tại UBND quận Long Biên bị trả lại.",
    "Giờ làm việc từ 7h30 đến 17h, thứ Bảy làm buổi sáng, rất tiện cho người đi làm.",
    "Cán bộ phường Lê Lợi hướng dẫn nhiệt tình.",
    "Ông bà cán bộ ở đây ai cũng lịch sự.",
    "Đề nghị tuyên dương chị ⟦S:Võ Thị Hồng Nhung⟧, quầy 3, làm việc tận tâm.",
    "anh ⟦S:nguyễn đức thịnh⟧ quầy đất đai làm việc chậm, hay bỏ đi đâu",
    "Tôi ⟦C:Hoàng Văn Tiến⟧ SĐT ⟦P:0988123456⟧ email ⟦E:hoangtien88@gmail.com⟧",
    "Sáng nay đi nộp hồ sơ, gặp cô ⟦S:Hường⟧ rất vui tính.",
    "Tôi đã nhờ em ⟦S:Phương⟧ ở quầy tiếp nhận chuyển hồ sơ giúp.",
    "thái độ nv ⟦S:Hùng⟧ ko tốt, quát ng già",
    "CCCD: ⟦I:0010 9901 2345⟧",
    "Cán bộ xã Tân Lập, huyện Gia Viễn làm việc có tâm.",
    "Điện Biên Phủ là đường chính, trụ sở nằm ngay đầu đường, dễ tìm.",
]


# --- Round 2: the held-out part -------------------------------------------------------------------------------
# Written after the rules had been tuned once and scored on a first held-out split (which fell short of the
# names target and was then merged into the tuning part): new sentences, new hand-written comments and
# given names that round 1 never used. Scored once as the held-out part, then tuned on as part of tuning.

# fmt: off
EXTRA_GIVEN_MALE = [
    "Khôi", "Bách", "Đăng", "Hưởng", "Khương", "Tráng", "Thụy", "Vỹ", "Tuệ", "Hiển", "Ngạn", "Quảng", "Thống",
    "Tạo", "Triết", "Vương", "Diệu", "Ký", "Lãm", "Hòa",
]
EXTRA_GIVEN_FEMALE = [
    "Diễm", "Ngát", "Thục", "Trúc", "Mận", "Nụ", "Khuyên", "Đoan", "Cúc", "Hân", "Nhiên", "Thi", "Huyên",
    "Lựu", "Xoan", "Mười", "Thêu", "Hoàn", "Dịu", "Thắm",
]
# fmt: on

TEMPLATES_ROUND2: dict[str, list[str]] = {
    "staff": [
        "Xin gửi lời cảm ơn chân thành tới {staff} đã tận tình giúp đỡ gia đình tôi.",
        "Hôm nay được {staff} tiếp đón chu đáo, thủ tục {proc} xong nhanh.",
        "{Staff} nhanh nhẹn, lịch sự, đúng là cán bộ của dân.",
        "Thái độ của {staff} khi tiếp dân cần xem lại.",
        "Quầy {n}: {staff} làm việc chậm, người dân xếp hàng dài.",
        "Rất mong lãnh đạo {unit} ghi nhận sự nhiệt tình của {staff}.",
        "Tôi bị {staff} từ chối nhận hồ sơ vì thiếu bản photo, trong khi có thể bổ sung sau.",
        "Hướng dẫn của {staff} rõ ràng, tôi không phải hỏi lại lần nào.",
        "Sáng {date} tôi đến quầy {n}, {staff} vắng mặt gần một tiếng.",
        "Cảm ơn {staff} đã kiên nhẫn giải thích cho mẹ tôi, bà đã lớn tuổi.",
        "Lúc đầu tôi lo lắm, nhưng {staff} trấn an và làm giúp mọi việc.",
        "Góp ý với {staff}: nên nói rõ các bước để người dân chuẩn bị trước.",
        "{Staff} và {staff} quầy {dept} phối hợp rất ăn ý.",
        "Cực kỳ hài lòng! {Staff} làm siêu nhanh.",
        "Tôi thấy {staff} còn trẻ nhưng rất có trách nhiệm với công việc.",
        "Không biết có phải do đông người không mà {staff} cáu gắt với tôi.",
        "Đề nghị {unit} biểu dương {staff_name}.",
        "{staff_name} là cán bộ tận tụy nhất mà tôi từng gặp.",
        "Lần sau tôi vẫn muốn được {staff} hướng dẫn.",
        "Mình gửi lời khen tới {staff} nha!",
    ],
    "citizen": [
        "Tôi tên đầy đủ là {self_full}, sinh năm {year}, đề nghị {proc}.",
        "Đây là ý kiến của {self_full}, người dân tổ dân phố số 4.",
        "Chồng tôi là anh {father} đã ủy quyền cho tôi nộp hồ sơ.",
        "Con gái tôi, cháu {child}, cần làm thẻ BHYT.",
        "Tôi là {self}, ở {province} về, mong được hướng dẫn thủ tục {proc}.",
        "Ký tên: {self_full}",
        "{self_full}, {age} tuổi, hưu trí: rất hài lòng.",
        "Ông nội tôi là cụ {father}, năm nay {age} tuổi, cần {proc}.",
        "Người viết: {self_full} (con bà {mother}).",
        "mình tên {self} nè, hỏi chút về {proc} được không ạ",
    ],
    "contact": [
        "Xin hãy gọi lại cho tôi: {phone}.",
        "Có gì cán bộ nhắn tin giúp qua {phone} ạ.",
        "Liên lạc: {email} / {phone}",
        "Tôi để lại số {phone}, mong phản hồi sớm.",
        "Thông tin liên hệ của tôi: {self_full}, điện thoại {phone}.",
        "Hộp thư của tôi: {email}. Rất mong nhận được trả lời.",
        "Nhờ gửi file tờ khai vào {email} giúp.",
        "Số máy bàn {landline} (giờ hành chính) hoặc di động {phone}.",
        "Gọi {phone} gặp {self}.",
    ],
    "id_number": [
        "Số căn cước công dân của tôi {cccd} đã tích hợp nhưng VNeID chưa cập nhật.",
        "Thẻ CCCD số {cccd} cấp {date} bị sai quê quán.",
        "Số CMT cũ của tôi là {cmnd}.",
        "Mã số định danh: {cccd}. Đề nghị kiểm tra giúp.",
        "CCCD {cccd} - hồ sơ {proc} nộp {date}.",
    ],
    "mixed": [
        "{self_full} - CCCD {cccd} - ĐT {phone}",
        "Kính gửi {unit}, tôi là {self_full}, số điện thoại {phone}, phản ánh việc chậm trả kết quả.",
        "Cảm ơn {staff}! Nếu cần thêm giấy tờ xin gọi {phone} hoặc mail {email}.",
        "Tôi là {self_full} (CMND {cmnd}), nhờ {staff} kiểm tra lại hồ sơ.",
    ],
    "clean": [
        "Phòng chờ sạch sẽ, có điều hòa, nước uống miễn phí.",
        "Nên có bảng hướng dẫn các bước cho thủ tục {proc}.",
        "Hệ thống xếp hàng tự động rất hiện đại.",
        "Chỗ để xe chật, trời nắng nóng phải đứng chờ ngoài.",
        "Trả kết quả trễ {m} ngày so với giấy hẹn.",
        "Cán bộ {unit} nên đeo thẻ tên để người dân dễ nhận biết.",
        "Tôi không nhớ tên cán bộ, chỉ nhớ là quầy số {n}.",
        "Cô ở quầy {n} rất dễ chịu, còn chú bảo vệ thì hơi khó tính.",
        "Sáng thứ Hai rất đông, nên bố trí thêm người vào đầu tuần.",
        "Cổng dịch vụ công hay bị lỗi, phải lên tận {unit} để nộp.",
        "Mong {unit} có thêm quầy ưu tiên cho người già và phụ nữ có thai.",
        "Tôi làm {proc} cho bố mẹ ở {province}, rất nhanh.",
        "Nên niêm yết lệ phí {fee} rõ ràng hơn.",
        "Hồ sơ nộp ở {unit}, đường {street}, rất gần nhà.",
        "Đường {street} kẹt xe nên tôi đến trễ, may quầy vẫn nhận hồ sơ.",
        "Em học sinh trường {school} đi làm CCCD được hướng dẫn tận tình.",
        "Anh em cán bộ ở đây ai cũng vui vẻ.",
        "Ông bà già như chúng tôi rất cần người hướng dẫn.",
        "Mọi thứ đều ổn, cảm ơn!",
        "Chưa hài lòng, lần sau mong tốt hơn.",
        "Nhân viên Ngân hàng Agribank đặt quầy thu phí ngay trong trung tâm, tiện lợi.",
        "Thông tin trên Cổng thông tin điện tử của {unit} chưa cập nhật.",
        "Theo {legal} thủ tục này phải giải quyết trong ngày.",
        "Hồ sơ {proc} hẹn {date}, đúng hẹn.",
        "Chị em phụ nữ đi làm thủ tục cho con rất đông vào buổi sáng.",
        "Bác sĩ trạm y tế phường {ward} cũng hướng dẫn tôi lên đây làm giấy tờ.",
        "Đồng chí Trưởng phòng {dept} nên tiếp dân định kỳ.",
        "Tôi ở thôn Bắc, xã {ward}, huyện {district}.",
        "Quá tuyệt vời, không phải đi lại nhiều lần như trước.",
        "Ghế chờ bị hỏng 2 cái, đề nghị sửa.",
    ],
}
RENDERS_ROUND2 = {"staff": 5, "citizen": 5, "contact": 5, "id_number": 6, "mixed": 5, "clean": 3}

HAND_ROUND2 = [
    "Kính gửi lãnh đạo phường, tôi là ⟦C:Nguyễn Thị Tuyết Mai⟧, xin phản ánh việc chậm trả sổ đỏ.",
    "Cảm ơn bé ⟦S:Ngân⟧ ở quầy 2 đã giúp bà già này.",
    "Anh ⟦S:Lộc⟧ quầy thuế giải thích rất kỹ, cảm ơn anh.",
    "sdt cua toi la ⟦P:0967.888.123⟧, ten ⟦C:Tam⟧",
    "Gửi cô ⟦S:Phượng⟧ và các anh chị ở tổ một cửa lời cảm ơn.",
    "Ý kiến của bà ⟦C:Phạm Thị Gái⟧, 78 tuổi: cán bộ rất tốt.",
    "Chị ⟦S:Mỹ Duyên⟧ ơi, em quên lấy lại bản gốc CCCD, chị giữ giúp em nhé! ĐT em ⟦P:0387 222 111⟧",
    "cán bộ ⟦S:Tùng⟧ quầy 5 làm việc qua loa, hỏi không trả lời",
    "Nhờ ⟦S:Khánh⟧ ở quầy 1 mà tôi không phải về lấy thêm giấy tờ.",
    "Người dân phường Hoa Lư rất hài lòng với Bộ phận Một cửa.",
    "Mình gặp bạn ⟦S:Gia Huy⟧ tình nguyện viên, bạn ấy hướng dẫn nộp online.",
    "Tôi là ⟦C:Quàng Văn Dũng⟧ người Thái ở bản Mường, cảm ơn cán bộ.",
    "Cảm ơn ⟦S:Y Sơn⟧, cán bộ người Ê Đê đã phiên dịch giúp bà con.",
    "Lấy số lúc 7h15, 9h mới tới lượt. ⟦C:Trịnh Văn Khiêm⟧",
    "Em ⟦C:Đặng Thảo Vy⟧ lớp 12A1 trường THPT Trần Phú cảm ơn các cô chú ạ.",
    "thái độ phục vụ tốt, hướng dẫn tận tình, không có gì phải phàn nàn",
    "Đề nghị cán bộ ⟦S:Lò Thị Hoa⟧ (quầy 3) giải thích lại lý do trả hồ sơ.",
    "Nhân viên ⟦S:Vi Văn Thắng⟧ ở bộ phận một cửa xã Yên Hòa làm việc tốt.",
    "zalo: ⟦P:0912 000 555⟧ - ⟦C:Lan⟧",
    "Email liên hệ ⟦E:tranmyhanh.vn@gmail.com⟧, sđt ⟦P:+84 979 555 222⟧",
    "CMND số ⟦I:025987654⟧ do CA TP.HCM cấp năm 2010.",
    "Căn cước: ⟦I:079 185 000 123⟧. Hồ sơ thừa kế của mẹ tôi, bà ⟦C:Lê Thị Sáu⟧.",
    "Ở đây có cô ⟦S:Tâm⟧ rất dễ mến.",
    "cô ⟦S:hạnh⟧ với cô ⟦S:nguyệt⟧ bên hộ tịch nhiệt tình lắm",
    "BÁC ⟦S:TÁM⟧ BẢO VỆ RẤT TỐT BỤNG",
    "ANH ⟦S:PHẠM MINH HIẾU⟧ QUẦY 4 GIẢI QUYẾT NHANH",
    "Chi cục Thuế khu vực Hoa Lư hướng dẫn kê khai online rất rõ.",
    "Gọi cho con trai tôi là ⟦C:Tuấn⟧ số ⟦P:0933 456 789⟧ nếu cần.",
    "Cán bộ ⟦S:Huỳnh Tấn Phát⟧ ở quầy đất đai làm việc rất có tâm.",
    "Mình tên ⟦C:Hải Yến⟧, sinh viên năm 3, làm thủ tục tạm trú nhanh.",
    "cam on co ⟦S:Thuy⟧ va chu ⟦S:Ba⟧ o quay mot cua",
    "nhan vien ⟦S:Bich Ngoc⟧ quay 2 rat de thuong",
    "toi la ⟦C:nguyen thi kim chi⟧, nho can bo goi lai ⟦P:0988 765 432⟧",
    "Anh ⟦S:Sang⟧ ở quầy cấp phép xây dựng làm việc chuyên nghiệp.",
    "Nhân viên trẻ đẹp, nhiệt tình nhưng còn thiếu kinh nghiệm.",
    "Cảm ơn Công an phường Tân Định đã cấp CCCD gắn chip nhanh.",
    "Quầy 3 (anh ⟦S:Đức⟧) và quầy 4 (chị ⟦S:Hòa⟧) làm rất tốt.",
    "Tôi cần gặp đồng chí ⟦S:Nguyễn Tiến Dũng⟧ để hỏi về đền bù giải phóng mặt bằng.",
    "Đề nghị xem xét thái độ của nhân viên tên ⟦S:Thư⟧, ngồi quầy cuối.",
    "Hồ sơ của ông ⟦C:Trần Văn Hậu⟧, thôn 3, xã Gia Hưng, đã quá hạn.",
    "Vui lòng liên hệ qua email: ⟦E:nguyen.hoang.nam@fpt.com.vn⟧",
    "Tổng đài 1900 1234 luôn bận, đề nghị tăng người trực.",
    "Sổ đỏ ghi sai tên bố tôi: đúng là ⟦C:Phan Văn Lợi⟧, không phải ⟦C:Phan Văn Lới⟧.",
    "Cán bộ tiếp nhận: chị ⟦S:Lam⟧. Thời gian chờ: 10 phút.",
    "Mẹ con tôi cảm ơn ⟦S:Hiền⟧ và ⟦S:Trâm⟧ ở quầy hộ tịch.",
    "Con chào chú ⟦S:Quang⟧ ạ, con là ⟦C:Minh Anh⟧ lớp 9 ạ, con cảm ơn chú.",
    "Lệ phí cấp bản sao trích lục 8.000 đồng/bản là hợp lý.",
    "Nhà tôi ở số 15 ngõ 32 phố Lê Thanh Nghị, hồ sơ gửi về đây giúp.",
    "Gửi ⟦S:Phạm Hồng Nhung⟧ - Bộ phận Một cửa: cảm ơn em rất nhiều!",
    "Người dân xã Kim Sơn rất cảm ơn các đồng chí cán bộ.",
    "Trưởng thôn là ông ⟦C:Bế Văn Sầm⟧ đã xác nhận cho tôi.",
    "Thanh toán lệ phí qua VNPay rất tiện, không phải dùng tiền mặt.",
    "ĐT bàn: ⟦P:0274 3822 456⟧; DĐ: ⟦P:0909 111 222⟧",
    "Em cảm ơn anh ⟦S:Hưng⟧ và chị ⟦S:Giang⟧ nhiều lắm, chúc anh chị sức khỏe.",
]


# --- Round 3: the held-out part -------------------------------------------------------------------------------
# Round 2 (scored once: names recall 87.6 %) was merged into the tuning part too. Round 3 was written before
# any of round 2's errors were read: new sentences, new comments, and given names no earlier round used.

# fmt: off
EXTRA3_GIVEN_MALE = [
    "Bắc", "Cần", "Chương", "Dân", "Điền", "Giáp", "Hách", "Khởi", "Lâu", "Mẫn", "Nhạc", "Phi", "Quách",
    "Sáng", "Thạc", "Thường", "Tịnh", "Ước", "Vọng", "Xương", "Na", "Bi", "Tí", "Cường",
]
EXTRA3_GIVEN_FEMALE = [
    "Bống", "Cầm", "Dạ", "Gái", "Hoè", "Khánh", "Lành", "Mai", "Ngần", "Nhài", "Phận", "Quyền", "Rạng",
    "Sa", "Tằm", "Thêm", "Trầm", "Viên", "Xinh", "Yên", "Mít", "Út", "Hoài", "Thơm",
]
# fmt: on

TEMPLATES_ROUND3: dict[str, list[str]] = {
    "staff": [
        "Trân trọng cảm ơn {staff} đã giúp tôi hoàn thiện hồ sơ {proc}.",
        "{Staff} rất có tâm với nghề, mong {unit} có nhiều cán bộ như vậy.",
        "Hôm {date} tôi được {staff} hướng dẫn tận tình, hồ sơ xong ngay trong buổi.",
        "Phải nói là {staff} làm việc rất chuyên nghiệp, thao tác máy nhanh.",
        "Tôi không hài lòng vì {staff} để tôi chờ mà không giải thích gì.",
        "Đến quầy {n} thì gặp {staff}, rất lịch sự và nhã nhặn.",
        "{Staff} có hỏi han bà cụ đi cùng tôi, rất tình cảm.",
        "Nghe nói {staff} mới chuyển về nhưng làm rất nhanh.",
        "Xin phản ánh: {staff} không đeo thẻ, nói chuyện cộc lốc.",
        "Được {staff} tư vấn nộp hồ sơ trực tuyến, đỡ mất thời gian đi lại.",
        "Cảm ơn {staff}, {staff} và toàn thể cán bộ {unit}.",
        "{Staff} xem hồ sơ rất kỹ, phát hiện thiếu chữ ký nên tôi bổ sung luôn.",
        "Nhờ có {staff} nhắc nên tôi mới biết phải mang bản chính.",
        "Rất tiếc là {staff} hôm nay nghỉ, người thay làm chậm hơn nhiều.",
        "Đánh giá 5 sao cho {staff}!",
        "Tôi muốn gặp lại {staff} để cảm ơn trực tiếp.",
        "Hồ sơ của tôi do {staff} thụ lý, đúng hẹn trả kết quả.",
        "Quầy tiếp nhận có {staff}, quầy trả kết quả có {staff}, cả hai đều vui vẻ.",
        "Đề xuất {unit} khen thưởng {staff_name} vì luôn tận tình với người dân.",
        "Người giải quyết hồ sơ cho tôi là {staff_name}, rất nhiệt tình.",
        "{staff_name} đã giúp tôi rất nhiều, xin cảm ơn.",
        "Gặp {staff} ở sảnh, được chỉ ngay quầy cần đến.",
        "Ai cũng khen {staff} dễ thương.",
        "Tôi gọi hỏi thì {staff} trả lời rất lễ phép.",
    ],
    "citizen": [
        "Người đề nghị: {self_full}, thường trú tại phường {ward}.",
        "Tôi, {self_full}, cam đoan các thông tin trên là đúng.",
        "Em tên là {self}, năm nay học lớp 12, đi làm CCCD lần đầu.",
        "Bà ngoại tôi là cụ {mother}, {age} tuổi, được phục vụ tận nhà.",
        "Vợ chồng tôi ({self_full} và {self_full}) đăng ký kết hôn rất nhanh.",
        "Thay mặt gia đình, {self_full} xin cảm ơn.",
        "Hồ sơ đứng tên {self_full}, nộp từ {date}, đến nay chưa có kết quả.",
        "Cháu tôi là {child} đã được cấp giấy khai sinh trong ngày.",
        "Tôi là con của ông {father}, cần làm thủ tục thừa kế.",
        "Chào anh chị, mình là {self} ở {province}.",
        "Trân trọng. {self_full}",
        "Mẹ tôi ({mother}) nhờ tôi viết ý kiến này.",
    ],
    "contact": [
        "Xin liên hệ lại theo số {phone} vào buổi tối.",
        "SDT: {phone} - cần tư vấn gấp.",
        "Nếu hồ sơ có vấn đề, vui lòng gửi thư tới {email}.",
        "Thư điện tử: {email}; điện thoại: {phone}.",
        "Tôi dùng số {phone} cho Zalo và điện thoại.",
        "Gửi giúp kết quả về {email} nhé.",
        "Liên hệ {self} qua số {phone}.",
        "Nhà tôi có số {landline}, ai nghe cũng được.",
        "Số điện thoại liên hệ: {phone} (chính chủ).",
        "Mail mình nè: {email}",
    ],
    "id_number": [
        "CCCD: {cccd}",
        "Nhờ kiểm tra hồ sơ theo số CCCD {cccd}.",
        "Số chứng minh thư {cmnd} của tôi hết hạn rồi.",
        "Thông tin: CCCD {cccd}, ngày cấp {date}.",
        "Hệ thống báo số định danh {cccd} không tồn tại.",
        "Tôi khai nhầm số CMND {cmnd} thành số CCCD, sửa giúp.",
    ],
    "mixed": [
        "Tôi là {self_full}, số CCCD {cccd}, điện thoại {phone}.",
        "{Staff} đã ghi lại số {phone} của tôi để báo khi có kết quả.",
        "Họ tên: {self_full} | ĐT: {phone} | Email: {email}",
        "Người nộp {self_full}, CMND {cmnd}, cảm ơn {staff}.",
        "Xin cảm ơn {staff}, tôi là {self}, số {phone}.",
        "Gửi {unit}: {self_full} ({phone}) đề nghị giải quyết hồ sơ {proc}.",
    ],
    "clean": [
        "Thủ tục đơn giản, thời gian nhanh, cán bộ nhiệt tình.",
        "Cần bố trí thêm cán bộ vào giờ cao điểm buổi sáng.",
        "Nhà vệ sinh cần sạch sẽ hơn.",
        "Không có chỗ ngồi cho người già, phải đứng chờ lâu.",
        "Màn hình gọi số bị hỏng, không biết đến lượt.",
        "Nên gửi tin nhắn báo khi hồ sơ có kết quả.",
        "Quá trình tiếp nhận hồ sơ {proc} diễn ra nhanh chóng.",
        "Tôi đánh giá cao {unit}.",
        "Lệ phí {fee} là hợp lý.",
        "Cần có biển chỉ dẫn vào {unit} rõ hơn, tôi tìm mãi.",
        "Trụ sở chuyển về đường {street} xa trung tâm, đi lại bất tiện.",
        "Khu vực gửi xe gần trường {school} rất chật.",
        "Ở {province} tôi làm thủ tục này mất cả tuần, ở đây chỉ 1 ngày.",
        "Cán bộ quầy {n} giải thích rất dễ hiểu.",
        "Các chú các bác cán bộ đều vui vẻ.",
        "Mấy chị ở quầy {dept} làm nhanh.",
        "Bạn bảo vệ trẻ, lịch sự.",
        "Cô chú bác nào đi làm thủ tục cũng được hướng dẫn tận tình.",
        "Không có ý kiến gì thêm.",
        "Tốt",
        "Hài lòng",
        "Đề nghị mở thêm quầy thu phí.",
        "Phòng {dept} xử lý hồ sơ đúng quy định.",
        "Tôi đến lúc 7h, 7h30 mới mở cửa.",
        "Giá photo 2.000đ/tờ hơi đắt.",
        "Tháng {n} năm nay đông người làm thủ tục đất đai.",
        "Đề nghị {unit} công khai thời gian giải quyết từng thủ tục.",
        "Mẫu tờ khai khó hiểu, nên có mẫu điền sẵn.",
        "Mạng wifi ở khu chờ yếu.",
        "Anh chị em cán bộ {unit} làm việc rất trách nhiệm.",
    ],
}
RENDERS_ROUND3 = {"staff": 5, "citizen": 5, "contact": 5, "id_number": 5, "mixed": 5, "clean": 2}

HAND_ROUND3 = [
    "Con cảm ơn cô ⟦S:Út⟧ đã chỉ con điền tờ khai ạ 🙏",
    "Chú ⟦S:Tư⟧ bảo vệ dắt xe cho mẹ tôi, quý hóa quá.",
    "Bé ⟦S:Na⟧ ở quầy lấy số dễ thương ghê",
    "Chị ⟦S:Hồng Nhung⟧ (quầy 2) và anh ⟦S:Quốc Bảo⟧ (quầy 5) làm rất tốt.",
    "Tôi là ⟦C:Lương Thị Thanh Hương⟧, giáo viên về hưu, xin góp ý như sau: nên có ghế cho người già.",
    "e cam on a ⟦S:Duy⟧ nhieu nha",
    "Nhờ em ⟦S:Thảo Nguyên⟧ mà bà cụ nhà tôi làm xong giấy tờ.",
    "Cán bộ tên ⟦S:Khải⟧ thái độ rất tệ, tôi đề nghị xử lý.",
    "Anh ⟦S:Hoàng⟧ bên thuế với chị ⟦S:Loan⟧ bên đất đai đều tận tình.",
    "Thưa ông ⟦S:Chu Văn Bình⟧, tôi xin phản ánh việc chậm trả hồ sơ.",
    "Cảm ơn ⟦S:Tuyết⟧, ⟦S:Hà⟧ và ⟦S:Vân⟧ quầy hộ tịch!",
    "Ông ⟦C:Ma Văn Khoa⟧ ở bản Nà Hang nhờ tôi viết hộ: cán bộ rất tốt.",
    "Ý kiến của ⟦C:Hà Thị Nhàn⟧ (tổ 9): mong có thêm quầy.",
    "hôm qua chị ⟦S:ngọc⟧ hẹn hôm nay trả mà chưa có",
    "Nhân viên ⟦S:Trương Mỹ Duyên⟧ rất chuyên nghiệp.",
    "ĐT: ⟦P:098.765.4321⟧ hoặc ⟦P:024 6666 8888⟧",
    "sđt ⟦P:0376 888 999⟧ zalo ⟦P:0376888999⟧ nha",
    "CCCD ⟦I:034098007777⟧, CMND cũ ⟦I:151 234 567⟧",
    "Email ⟦E:thanhhuong.luong@yahoo.com⟧",
    "Gửi lời cảm ơn tới đồng chí ⟦S:Lê Văn Thành⟧, Phó Chủ tịch UBND phường.",
    "Chủ tịch UBND phường là ông ⟦S:Nguyễn Đình Khang⟧ tiếp dân rất cởi mở.",
    "Cán bộ phường Nguyễn Trãi làm việc tốt.",
    "Đường Trần Phú đang sửa nên khó vào trụ sở.",
    "Tôi ở ngõ 5 phố Hoàng Hoa Thám.",
    "Trường Mầm non Sơn Ca gần trụ sở nên sáng rất đông.",
    "Lịch tiếp dân của Chủ tịch UBND thành phố nên công khai.",
    "Nhờ anh chị tư vấn thủ tục sang tên xe máy.",
    "Cán bộ một cửa làm việc nhanh, giải quyết trong 15 phút.",
    "Em là sinh viên trường Đại học Bách khoa, làm tạm trú nhanh lắm.",
    "Ông bà, cô chú, anh chị ở đây đều nhiệt tình.",
    "CHỊ ⟦S:THU HƯƠNG⟧ Ở QUẦY 6 RẤT NHIỆT TÌNH!!!",
    "anh ⟦S:Tài⟧ ơi em cảm ơn anh nhiều ạ",
    "Tôi tên ⟦C:Phùng Văn Hải⟧, sđt ⟦P:0868 999 000⟧, nhờ cán bộ gọi lại.",
    "Con trai tôi ⟦C:Nguyễn Minh Khang⟧ đã được cấp CCCD.",
    "Thay mặt Công ty TNHH Thành Công, xin cảm ơn Phòng Kinh tế.",
    "Bố mẹ tôi ở xã Thanh Sơn, huyện Kim Bôi, tỉnh Hòa Bình.",
    "Xin cảm ơn chú ⟦S:Sáu⟧ và cô ⟦S:Bảy⟧ bộ phận một cửa.",
    "Cán bộ ⟦S:nguyễn thị hà⟧ rất tận tâm",
    "Toi muon khen chi ⟦S:Tuyet Nhung⟧ o quay 4",
    "chi ⟦S:Phuong⟧ quay so 3 rat nhiet tinh, cam on chi",
    "Giờ nghỉ trưa 11h30 - 13h30 hơi dài.",
    "⟦C:Trần Thị Bích⟧ - tổ 3 - phường Bích Đào",
    "Thủ tục cấp phiếu lý lịch tư pháp số 1 mất 10 ngày.",
    "Ngày 20/11 tôi nộp hồ sơ, số biên nhận 000.00.26.H45-261120-0012.",
    "Tôi tên là ⟦C:Hứa Vĩnh Khang⟧, người Hoa, làm hộ kinh doanh nhanh.",
    "Đề nghị anh ⟦S:Long⟧ quầy 1 tập trung làm việc, không dùng điện thoại.",
    "Cảm ơn em ⟦S:Hiếu⟧ ở quầy hướng dẫn, em rất lễ phép.",
    "Có ông cán bộ đeo kính ở quầy 2 nói chuyện rất khó chịu.",
    "Mình thấy bạn ⟦S:Linh⟧ quầy 7 hơi chậm, chắc mới vào làm.",
    "Anh ⟦S:Phạm Quang Vinh⟧ – quầy 4 – cảm ơn anh!",
    "Tôi đã gặp trực tiếp đồng chí Chủ tịch, được giải quyết ngay.",
    "Mong Trung tâm Phục vụ hành chính công tỉnh Quảng Ninh có thêm ghế chờ.",
    "Gia đình bà ⟦C:Tô Thị Lụa⟧ xin cảm ơn.",
    "chú ⟦S:Chín⟧ quầy đất đai chỉ dẫn tận tình",
    "Được bạn ⟦S:Minh Châu⟧ hướng dẫn, mình làm xong trong 20 phút.",
    "Nộp 2,5 triệu lệ phí trước bạ, nhận kết quả sau 3 ngày.",
    "Anh ⟦S:Ba⟧ quầy 3 hướng dẫn tận tình.",
    "Tôi rất hài lòng, cảm ơn ⟦S:Vy⟧!",
    "Hôm nay cô ⟦S:Lan Anh⟧ nghỉ, không ai nhận hồ sơ đất.",
    "Mong cán bộ gọi cho tôi, ⟦C:Lê Minh Tuấn⟧, số ⟦P:0909-123-456⟧.",
]


# --- Rendering ----------------------------------------------------------------------------------------------


@dataclass
class Comment:
    text: str
    spans: list[tuple[int, int, str, str | None]] = field(default_factory=list)
    origin: str = ""
    variant: str = ""
    round: str = ""


_MARK = re.compile(r"⟦([SCPIE]):(.+?)⟧")
_MARK_LABEL = {
    "S": ("PER", "staff"),
    "C": ("PER", "citizen"),
    "P": ("PHONE", None),
    "I": ("ID", None),
    "E": ("EMAIL", None),
}


def parse_marked(marked: str) -> Comment:
    """``⟦S:Lan⟧`` etc. → the plain text and its spans."""
    comment = Comment("")
    position = 0
    for match in _MARK.finditer(marked):
        comment.text += marked[position : match.start()]
        label, role = _MARK_LABEL[match.group(1)]
        start = len(comment.text)
        comment.text += match.group(2)
        comment.spans.append((start, len(comment.text), label, role))
        position = match.end()
    comment.text += marked[position:]
    return comment


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class Pools:
    """The given names a part may use (the held-out part also has names the tuning part never sees)."""

    male: list[str]
    female: list[str]


class Renderer:
    def __init__(self, rng: random.Random, pools: Pools) -> None:
        self.rng = rng
        self.pools = pools

    # Names.
    def given(self, female: bool) -> str:
        return self.rng.choice(self.pools.female if female else self.pools.male)

    def full(self, female: bool, parts: int | None = None) -> str:
        rng = self.rng
        parts = parts or rng.choices([2, 3, 4], weights=[12, 75, 13])[0]
        surname = _weighted(rng, SURNAMES)
        middles = MIDDLE_FEMALE if female else MIDDLE_MALE
        names = [surname]
        if parts >= 3:
            names.append(rng.choice(middles))
        if parts == 4:
            names.append(rng.choice([m for m in middles if m not in ("Thị", "Văn")]))
        names.append(self.given(female))
        return " ".join(names)

    def staff_name(self, female: bool) -> str:
        form = self.rng.choices(["given", "middle_given", "full"], weights=[48, 12, 40])[0]
        if form == "given":
            return self.given(female)
        if form == "middle_given":
            middles = [m for m in (MIDDLE_FEMALE if female else MIDDLE_MALE) if m not in ("Thị", "Văn")]
            return f"{self.rng.choice(middles)} {self.given(female)}"
        return self.full(female)

    def honorific(self, female: bool) -> str:
        if self.rng.random() < 0.32:
            return _weighted(self.rng, HONORIFIC_ANY)
        return _weighted(self.rng, HONORIFIC_FEMALE if female else HONORIFIC_MALE)

    # Numbers and addresses.
    def phone(self) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            return self.landline()
        prefix = rng.choice(
            ["32", "33", "34", "35", "36", "37", "38", "39", "56", "58", "59", "70", "76", "77", "78", "79"]
            + ["81", "82", "83", "84", "85", "86", "88", "89", "90", "91", "93", "94", "96", "97", "98", "99"]
        )
        digits = prefix + "".join(rng.choice("0123456789") for _ in range(7))  # 9 digits after the 0
        style = rng.choices(
            ["plain", "4-3-3", "dots", "dashes", "3-3-4", "+84 spaced", "+84 plain", "84 plain", "(+84)"],
            weights=[34, 20, 10, 6, 8, 8, 5, 3, 2],
        )[0]
        local = "0" + digits
        if style == "plain":
            return local
        if style == "4-3-3":
            return f"{local[:4]} {local[4:7]} {local[7:]}"
        if style == "dots":
            return f"{local[:4]}.{local[4:7]}.{local[7:]}"
        if style == "dashes":
            return f"{local[:4]}-{local[4:7]}-{local[7:]}"
        if style == "3-3-4":
            return f"{local[:3]} {local[3:6]} {local[6:]}"
        if style == "+84 spaced":
            return f"+84 {digits[:3]} {digits[3:6]} {digits[6:]}"
        if style == "+84 plain":
            return f"+84{digits}"
        if style == "84 plain":
            return f"84{digits}"
        return f"(+84) {digits[:3]} {digits[3:6]} {digits[6:]}"

    def landline(self) -> str:
        rng = self.rng
        area = rng.choice(["24", "28", "236", "225", "229", "238", "251", "292", "234", "263"])
        rest = "".join(rng.choice("0123456789") for _ in range(10 - len(area)))
        rest = rng.choice("2345678") + rest[1:]
        style = rng.choice(["spaced", "parens", "dots", "plain", "+84"])
        if style == "spaced":
            return f"0{area} {rest[:4]} {rest[4:]}"
        if style == "parens":
            return f"(0{area}) {rest[:4]} {rest[4:]}"
        if style == "dots":
            return f"0{area}.{rest[:4]}.{rest[4:]}"
        if style == "plain":
            return f"0{area}{rest}"
        return f"+84 {area} {rest[:4]} {rest[4:]}"

    def cccd(self) -> str:
        rng = self.rng
        province = rng.choice(["001", "079", "031", "048", "037", "040", "038", "036", "092", "026", "034", "096"])
        year = rng.randint(40, 99) if rng.random() < 0.8 else rng.randint(0, 12)
        digits = province + rng.choice("0123") + f"{year:02d}"
        digits += "".join(rng.choice("0123456789") for _ in range(6))
        style = rng.choices(["plain", "3s", "4s", "dots"], weights=[78, 10, 7, 5])[0]
        if style == "plain":
            return digits
        if style == "3s":
            return " ".join(digits[i : i + 3] for i in range(0, 12, 3))
        if style == "4s":
            return " ".join(digits[i : i + 4] for i in range(0, 12, 4))
        return ".".join(digits[i : i + 3] for i in range(0, 12, 3))

    def cmnd(self) -> str:
        rng = self.rng
        digits = rng.choice("0123") + "".join(rng.choice("0123456789") for _ in range(8))
        if rng.random() < 0.15:
            return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
        return digits

    def email(self) -> str:
        rng = self.rng
        female = rng.random() < 0.5
        surname = strip_diacritics(_weighted(rng, SURNAMES)).lower()
        middle = strip_diacritics(rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)).lower()
        given = strip_diacritics(self.given(female)).lower().replace("'", "")
        year = str(rng.randint(1955, 2006))
        local = rng.choice(
            [
                f"{surname}{middle}{given}",
                f"{given}.{surname}",
                f"{given}{surname[0]}{middle[0]}",
                f"{given}_{surname}",
                f"{surname}{given}{year[2:]}",
                f"{given}.{surname}{year}",
                f"{surname}.{middle}.{given}",
                f"{given}{year}",
                f"{surname[0]}{middle[0]}{given}+hoso",
            ]
        )
        domain = rng.choices(
            [
                "gmail.com",
                "yahoo.com",
                "yahoo.com.vn",
                "outlook.com",
                "hotmail.com",
                "icloud.com",
                "fpt.vn",
                "vnpt.vn",
                "ninhbinh.gov.vn",
                "hanoi.gov.vn",
                "edu.vn",
            ],
            weights=[60, 6, 8, 6, 4, 3, 2, 2, 3, 3, 3],
        )[0]
        address = f"{local}@{domain}"
        if rng.random() < 0.08:
            address = address[0].upper() + address[1:]
        return address

    def fill(self, template: str, origin: str) -> Comment:
        comment = Comment("", origin=origin)
        position = 0
        for match in re.finditer(r"\{(\w+)\}", template):
            comment.text += template[position : match.start()]
            position = match.end()
            slot = match.group(1)
            self._slot(comment, slot)
        comment.text += template[position:]
        return comment

    def _add(self, comment: Comment, text: str, label: str | None = None, role: str | None = None) -> None:
        start = len(comment.text)
        comment.text += text
        if label is not None:
            comment.spans.append((start, len(comment.text), label, role))

    def _slot(self, comment: Comment, slot: str) -> None:
        rng = self.rng
        female = rng.random() < 0.55
        if slot in ("staff", "Staff"):
            honorific = self.honorific(female)
            if slot == "Staff":
                honorific = honorific[0].upper() + honorific[1:]
            self._add(comment, honorific + " ")
            self._add(comment, self.staff_name(female), "PER", "staff")
        elif slot == "staff_name":
            self._add(comment, self.full(female), "PER", "staff")
        elif slot == "self":
            name = self.given(female) if rng.random() < 0.4 else self.full(female)
            self._add(comment, name, "PER", "citizen")
        elif slot == "self_full":
            self._add(comment, self.full(female), "PER", "citizen")
        elif slot == "mother":
            self._add(comment, self.full(True, 3), "PER", "citizen")
        elif slot == "father":
            self._add(comment, self.full(False, 3), "PER", "citizen")
        elif slot == "child":
            name = self.given(female) if rng.random() < 0.5 else self.full(female)
            self._add(comment, name, "PER", "citizen")
        elif slot == "phone":
            self._add(comment, self.phone(), "PHONE")
        elif slot == "landline":
            self._add(comment, self.landline(), "PHONE")
        elif slot == "cccd":
            self._add(comment, self.cccd(), "ID")
        elif slot == "cmnd":
            self._add(comment, self.cmnd(), "ID")
        elif slot == "email":
            self._add(comment, self.email(), "EMAIL")
        else:
            self._add(comment, self._ordinary(slot))

    def _ordinary(self, slot: str) -> str:
        rng = self.rng
        simple: dict[str, Callable[[], str]] = {
            "n": lambda: str(rng.randint(1, 12)),
            "m": lambda: str(rng.choice([15, 20, 30, 40, 45, 50, 60, 90, 120])),
            "age": lambda: str(rng.randint(60, 92)),
            "year": lambda: str(rng.randint(1950, 2005)),
            "proc": lambda: rng.choice(PROCEDURES),
            "dept": lambda: rng.choice(DEPARTMENTS),
            "ward": lambda: rng.choice(WARDS),
            "street": lambda: rng.choice(STREETS),
            "school": lambda: rng.choice(SCHOOLS),
            "province": lambda: rng.choice(PROVINCES),
            "district": lambda: rng.choice(DISTRICTS),
            "fee": lambda: rng.choice(FEES),
            "date": lambda: rng.choice(DATES),
            "hotline": lambda: rng.choice(HOTLINES),
            "legal": lambda: rng.choice(LEGAL),
            "role": lambda: rng.choice(REAL_ROLES),
        }
        if slot == "unit":
            unit = rng.choice(UNITS)
            return unit.format(ward=rng.choice(WARDS), district=rng.choice(DISTRICTS), province=rng.choice(PROVINCES))
        return simple[slot]()


# --- Variants (each keeps every character in place) --------------------------------------------------------


def strip_diacritics(text: str) -> str:
    """One character for one: "Đặng Thị Ánh" → "Dang Thi Anh"."""
    out = []
    for char in text:
        if char in "đĐ":
            out.append("d" if char == "đ" else "D")
            continue
        out.append(unicodedata.normalize("NFD", char)[0])
    return "".join(out)


def vary(comment: Comment, rng: random.Random, *, keep_as_written: bool = False) -> Comment:
    ascii_only = False if keep_as_written else rng.random() < 0.2
    if keep_as_written:
        case = "as written"
    else:
        lower_share = 0.45 if ascii_only else 0.12
        case = rng.choices(["as written", "lower", "upper"], weights=[1 - lower_share - 0.04, lower_share, 0.04])[0]
    text = comment.text
    if ascii_only:
        text = strip_diacritics(text)
    if case == "lower":
        text = text.lower()
    elif case == "upper":
        text = text.upper()
    assert len(text) == len(comment.text)
    variant = f"{'no diacritics' if ascii_only else 'diacritics'}, {case}"
    return Comment(text, list(comment.spans), comment.origin, variant, comment.round)


# --- The corpus ---------------------------------------------------------------------------------------------

RENDERS = {
    "staff_praise": 5,
    "staff_complaint": 5,
    "staff_bare": 5,
    "citizen_self": 5,
    "contact": 7,
    "id_number": 8,
    "mixed": 7,
    "clean": 3,
}


def build() -> tuple[list[Comment], list[Comment]]:
    rng = random.Random(SEED)
    male, female = sorted(set(GIVEN_MALE)), sorted(set(GIVEN_FEMALE))
    rng.shuffle(male)
    rng.shuffle(female)
    # The first quarter of each shuffled list is held out: the tuning renders never use those names.
    tuning_pools = Pools(male[len(male) // 4 :], female[len(female) // 4 :])
    all_pools = Pools(male, female)
    round1_held_out_templates: set[tuple[str, int]] = set()
    for kind, templates in TEMPLATES.items():
        order = list(range(len(templates)))
        rng.shuffle(order)
        round1_held_out_templates.update((kind, i) for i in order[: max(1, round(len(templates) / 4))])
    tuning: list[Comment] = []
    held_out: list[Comment] = []
    seen: set[str] = set()

    def keep(comment: Comment, part: list[Comment], round_: str) -> None:
        if comment.text in seen:
            return
        seen.add(comment.text)
        comment.round = round_
        part.append(comment)

    # Round 1: what was the tuning part ("1") and the first held-out split ("1h", scored once, then tuned on).
    for kind, templates in TEMPLATES.items():
        for index, template in enumerate(templates):
            only_held_out = (kind, index) in round1_held_out_templates
            for _ in range(RENDERS[kind]):
                first_held_out = only_held_out or rng.random() < HELD_OUT_SHARE
                renderer = Renderer(rng, all_pools if first_held_out else tuning_pools)
                comment = renderer.fill(template, f"template:{kind}:{index}")
                keep(vary(comment, rng), tuning, "1h" if first_held_out else "1")
    for index, marked in enumerate(HAND):
        comment = parse_marked(marked)
        comment.origin = f"hand:{index}"
        keep(vary(comment, rng, keep_as_written=True), tuning, "1h" if rng.random() < HELD_OUT_SHARE else "1")
    # Round 2 ("2h": scored once as the held-out part, then tuned on): its own seed, sentences and comments.
    rng = random.Random(SEED + 2)
    round2_pools = Pools(
        male[: len(male) // 4] + sorted(set(EXTRA_GIVEN_MALE)),
        female[: len(female) // 4] + sorted(set(EXTRA_GIVEN_FEMALE)),
    )
    for kind, templates in TEMPLATES_ROUND2.items():
        for index, template in enumerate(templates):
            for _ in range(RENDERS_ROUND2[kind]):
                comment = Renderer(rng, round2_pools).fill(template, f"template2:{kind}:{index}")
                keep(vary(comment, rng), tuning, "2h")
    for index, marked in enumerate(HAND_ROUND2):
        comment = parse_marked(marked)
        comment.origin = f"hand2:{index}"
        keep(vary(comment, rng, keep_as_written=True), tuning, "2h")
    # Round 3, the held-out part: its own seed, sentences and comments; all names, and new ones.
    rng = random.Random(SEED + 3)
    round3_pools = Pools(
        sorted(set(GIVEN_MALE) | set(EXTRA3_GIVEN_MALE)), sorted(set(GIVEN_FEMALE) | set(EXTRA3_GIVEN_FEMALE))
    )
    for kind, templates in TEMPLATES_ROUND3.items():
        for index, template in enumerate(templates):
            for _ in range(RENDERS_ROUND3[kind]):
                comment = Renderer(rng, round3_pools).fill(template, f"template3:{kind}:{index}")
                keep(vary(comment, rng), held_out, "3")
    for index, marked in enumerate(HAND_ROUND3):
        comment = parse_marked(marked)
        comment.origin = f"hand3:{index}"
        keep(vary(comment, rng, keep_as_written=True), held_out, "3")
    return tuning, held_out


def _lines(comments: list[Comment], prefix: str) -> str:
    rows = []
    for number, comment in enumerate(comments, 1):
        row = {
            "id": f"{prefix}{number:04d}",
            "text": comment.text,
            "spans": [list(span) for span in comment.spans],
            "origin": comment.origin,
            "variant": comment.variant,
            "round": comment.round,
        }
        rows.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(rows) + "\n"


def outputs() -> dict[str, str]:
    tuning, held_out = build()
    return {"tuning.jsonl": _lines(tuning, "t"), "heldout.jsonl": _lines(held_out, "h")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = parser.parse_args()
    status = 0
    for name, text in outputs().items():
        path = HERE / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                sys.stderr.write(f"{name} differs from what generate.py writes\n")
                status = 1
        else:
            path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"{name}: {text.count(chr(10))} comments\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
