"""Word lists for finding Vietnamese personal names in a comment (used by ``scrub_names``).

Vietnamese names are a closed set of surnames, a small set of middle names and a few hundred given-name
syllables, written capitalised. Capitals alone find most names after an honorific ("chị Lan"); these lists
say which lower-case or unaccented words can be names, and which capitalised words are not (titles,
offices, places). Lists are written with diacritics; ``fold`` gives the unaccented key used when a comment
was typed without them. Only common, general-knowledge words; some (everyday words that look like names,
such as "chu đáo", "chủ động") were added while tuning on the corpus's tuning part, never its held-out part.
"""

from __future__ import annotations

import unicodedata

_TONES = "\u0300\u0301\u0309\u0303\u0323"
# Old-style tone placement on an open syllable's second vowel ("hoà", "thuỷ") → the first ("hòa", "thủy").
_OLD_STYLE = {
    first + unicodedata.normalize("NFC", second + tone): unicodedata.normalize("NFC", first + tone) + second
    for first, second in (("o", "a"), ("o", "e"), ("u", "y"))
    for tone in _TONES
}


def key(word: str) -> str:
    """Lower case with one tone placement: "Hoà" and "Hòa" → "hòa" (but "quý" stays "quý")."""
    low = word.lower()
    ending = low[-2:]
    if ending in _OLD_STYLE and not low[:-2].endswith("q"):
        return low[:-2] + _OLD_STYLE[ending]
    return low


# Every accented Latin letter (Latin-1 to Latin Extended Additional, where Vietnamese's are) → its base letter.
_FOLD = {
    code: unicodedata.normalize("NFD", chr(code))[0]
    for code in range(0xC0, 0x1F00)
    if chr(code).isalpha() and unicodedata.normalize("NFD", chr(code))[0].isascii()
}
_FOLD.update({ord("đ"): "d", ord("Đ"): "D"})


def fold(word: str) -> str:
    """Lower case without diacritics: "Đặng" → "dang" (one character for one)."""
    return word.lower().translate(_FOLD)


def _words(text: str) -> frozenset[str]:
    return frozenset(key(word) for word in text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(key(word) for word in phrase.split()) for phrase in text.split(",") if phrase.strip())


def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(word) for word in words)


def _folded_phrases(phrases: frozenset[tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(fold(word) for word in phrase) for phrase in phrases)


SURNAMES = _words(
    """nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh đoàn trương lương lâm
    trịnh đào cao tạ hà lưu tô kiều quách phùng thái vương châu tăng triệu mạc chu nông lò hứa mai khúc
    văn đàm giang hoàng lạc lục mã nghiêm ninh ông phí quan tôn thạch thân tiêu từ ưng vi viên âu cù
    diệp doãn đồng khổng khương kim lã lại lều mẫn nhâm phương quản sầm tống trình vòng yên hầu bạch
    hồng cấn cầm giáp hàn lành mông ma quàng"""
)
# Surnames that are not also everyday words, so that even lower-case "nguyễn văn an" is a name.
SURNAMES_UNAMBIGUOUS = _words("nguyễn trần phạm huỳnh đặng bùi võ trương trịnh quách phùng nghiêm khương")

MIDDLES = _words(
    """văn thị hữu đức minh quang công thành xuân ngọc quốc đình trọng tuấn gia hoàng mạnh bá duy hải
    thanh tiến việt khắc viết anh chí huy trung thu kim hồng phương thùy thuỳ bích diệu hoài khánh mỹ
    như quỳnh bảo cẩm tuyết lan mai thảo đăng nhật phúc thế tất tường vĩnh yến hà lệ ánh an bình"""
)

GIVEN = _words(
    """an ân anh ánh bách bạch bảo bằng bắc bích biên bình bính bội cảnh cát châu chi chí chiến chinh chính
    chương công cúc cương cường diễm diệp diệu doanh du dung dũng duy duyên dương đan đang đào đạo đạt
    đăng điệp định đoan đông đồng đức gấm giang giao hạ hà hải hạnh hào hảo hằng hân hậu hiền hiển hiếu
    hiệp hiệu hoa hòa hoà hoài hoan hoàn hoàng hồng hợp huân huấn huệ hùng hưng hương hường huy huyền huỳnh
    kha khải khang khanh khánh khiêm khoa khôi khuê kiên kiệt kiều kim lai lài lam lâm lan lành lãm lạc
    lập lệ liên liễu linh lĩnh loan lộc lợi long luân lụa lực ly lý mai mạnh mến minh mơ my mỹ nam nga
    ngà ngân nghĩa ngọc nguyên nguyệt nhã nhàn nhạn nhân nhật nhi nhiên như nhung oanh phát phấn phi phong
    phú phúc phụng phước phương phượng quân quang quế quốc quý quyên quyết quỳnh sang sâm sen sinh sơn
    sương sỹ sĩ tài tâm tân tấn thạch thái thắm thắng thanh thành thảo thi thịnh thoa thông thơ thu thư
    thuận thục thủy thuỷ thúy thuý thương thy tiên tiến tín tình toàn toản trà trang trâm trí triều trinh
    trọng trung trúc trường tú tuấn tùng tuyên tuyền tuyết tươi tường uyên uy vân văn vi việt vinh vĩnh
    vũ vui vượng vy xuân xuyến ý yên yến hưởng khiết luyến nương thiện thơm trân vĩ hiên tuệ lương
    đắc hợi mão tý sửu dần thìn tỵ ngọ mùi thân dậu tuất út páo pao nhi"""
)
# Rarer given names; unlike those above, they leave a capitalised office word a stop word ("cán bộ Sở …").
GIVEN_RARE = _words(
    """ái ẩn âu bản bân biển bửu ca cẩn cầu châm chấn chuyên chuyền cơ côn cung cừ cửu danh dao di dĩ diên dinh
    doãn dự duẩn dục duệ dụng duyệt đài đảm đàn đản đại đam đằng đệ điển đính độ độc đôn đống đước giác giai hàm
    hán hãn hinh hoạt hội hữu huyên hy kế kỳ kỷ ký khắc khâm khoái khuyên khuyến kiểm kính lân lẫm lễ liêm luyện
    lượng lựu mậu miên mộng mừng mỵ nại năng nghi nghị nghiêm ngôn ngữ nhâm nhẫn nhĩ nhuận ninh nông nữ oai ổn
    pháp phẩm phiên quảng sở tạo tần tập tất thăng thẩm thế thêu thiên thiết thọ thoại thống thụy tiệp tiết tĩnh
    toại toán tôn trác trãi tráng trị triết triệu trình trực trưng tuân tuyến tước tỷ uẩn ưng vạn vận viễn vịnh
    vỹ xoan xuyên ngát mận nụ dịu khương y"""
)
# Southern habit: a person called by their rank among siblings ("cô Sáu", "chú Bảy", "anh Út").
SIBLING_RANKS = _words("hai ba tư năm sáu bảy tám chín mười út")

# Given names that, lower-case after a pronoun, are more often an everyday word ("chị thái độ", "anh sang").
AMBIGUOUS_LOWER = _words(
    """an bình minh vui hiền nhàn đông thu mai sáng tâm thành trung hòa hoà tài công bảo quý nhân đức lợi
    tiến phúc hạnh linh lành tươi mến thương như ý vi hảo thông chính nguyên sinh lập vượng thanh xuân kim
    văn toàn thái định đạt duy phát quyết sang tân tố đào hạ chi liên trọng tín thuận hiếu nghĩa khánh
    hoàn hợp lâm lam mỹ my nhã nhật phi phú thi thơ thơm tình trà trí tuyên tường uy vĩ yên giao sâm
    đan đang đồng cát lạc lai biên du dung hân hiển hiệu huân huấn hưởng khiết kha luyến hoài năm ba
    hai tư sáu bảy tám chín mười út hà hải hồng long sơn quang việt ngọc tú lộc lực thư hưng bắc
    ca cơ cung dao di dự dục dụng đài đàn đại độ độc giai hàm hội kế kỳ ký kiểm kính lễ lượng mừng năng nghi
    ngữ nữ ổn pháp phẩm sở tạo tập tất thế thiên thiết thọ toán trị trực tuyến vạn vận bản biển cầu chuyên
    danh hoạt nông tôn trình triệu mộng dịu hoàn khuyên hữu thăng tiết tiệp cửu dĩ đống khắc khoái nhiên y"""
)
# Unaccented forms that are, more often than not, another everyday word ("lan" = lần, "hang" = hàng).
AMBIGUOUS_FOLDED = _words(
    """an ba bay binh chi cong dan dao dat dinh dong duc dung giang ha hai hang hanh hau hien hoa hoi hong
    huong khanh lam lan le loi long luc mai man minh nam nga ngan nhan nhu phat phuc phuong quan quang sang
    sau sinh son tai tam tan thang thanh thao thi thu thuong tien tin to toan trang tri trong tu tung van
    viet vinh vu xuan y lap chinh thong trung hoan tuyen kim my vi ly diem du hien hop ky man nga ngoc ninh
    phi quy sy thai thanh thuy tinh trinh truong uy bac tao vui doan hieu lien loan nhat quyet thinh tra
    khai cao ho la mo mac nong tang thach lo phong nha thuc cu di han huy ke ky kinh mung nang nghi ngu nu on
    pham so tap tat the thien thiet tho truc ban bien cau chuyen danh ton trieu mong khuyen huu tiep luong chau
    tuong ca khoi lua can con"""
)

HONORIFICS = _words("anh chị ông bà cô chú em bác bạn cháu dì cậu thầy mợ thím cụ bé nv cb a c")
HONORIFIC_PHRASES = _phrases("nhân viên, cán bộ, đồng chí, chuyên viên, cô giáo, thầy giáo, công chức, kiểm soát viên")
# Unaccented honorifics that are not also a frequent word ("chi" = chỉ, "co" = có, "ba" = ba/bà).
HONORIFICS_FOLDED_STRONG = _words("anh em chu bac nv cb")
HONORIFICS_FOLDED_WEAK = _words("chi ong ba co ban chau thay di cau cu be a c")
HONORIFIC_PHRASES_FOLDED = _phrases("nhan vien, can bo, dong chi, chuyen vien, cong chuc")

# Words that often follow a name and rarely an everyday word: "chị mai rất dễ thương", "anh thu ở quầy 2".
AFTER_NAME = _words("ở rất bên thuộc quầy và với nhiệt tiếp hỗ giải hướng ạ ơi trực phụ đeo đã")
AFTER_NAME_FOLDED = _words("o rat ben thuoc quay va voi nhiet tiep giai huong oi")
AFTER_NAME_PHRASES = _phrases("làm việc, gọi điện, giải thích, hướng dẫn, tiếp nhận, hỗ trợ, cho tôi, cho em")

# Everyday words that follow a name or a pronoun; never taken for a name that the lists do not know.
COMMON = _words(
    """nói bảo làm hỏi đi về đến chờ xem ghi thu trả nhận gọi cho giúp dặn hẹn rất ở đã đang sẽ vẫn cũng thì
    là và với của nhé nha ạ ơi này kia đó ấy quá lắm hơi khá cực siêu rồi chưa không ko được bị xong lại nữa
    luôn thôi mà nên cần phải muốn thấy biết hiểu tiếp hướng giải hỗ nhiệt tận vui lịch nhanh chậm tốt kém
    hay dở ngồi đứng đeo mặc trẻ già cao thấp gầy béo xinh đẹp hiền dữ khó dễ lâu sớm muộn trễ đúng sai
    nhiều ít mới cũ giỏi chăm chỉ tỉnh cẩn thận kỹ qua loa ơn xin mời vào ra lên xuống nghỉ trưa chiều sáng tối
    bên quầy phòng tổ số cán bộ nhân viên người dân họ tôi mình em chị anh ông bà cô chú bác hồ sơ giấy thủ tục
    phí tiền thuế đất nhà xe máy điện thoại tên tuổi năm tháng ngày giờ phút lần cái con một hai ba"""
)
COMMON_FOLDED = _folded(COMMON)
# After a name and before the end of it: "Lan - quầy 3", "Do Thi Tam (con bà …)", "cảm ơn chị Lan nha".
END_PARTICLES = _words("nha nhé nhá nhe ạ à ơi")
END_PARTICLES_FOLDED = _words("nha nhe nha a oi")

# Words after which the next capitalised words name someone: "tên là", "Họ tên:", "Người phản ánh:".
INTRODUCERS = _phrases(
    """tên, tên là, tên tôi là, tên em là, tên mình là, tôi là, tôi tên, tôi tên là, mình là, em là, con là,
    cháu là, họ tên, họ và tên, người gửi, người phản ánh, người nộp, người nộp hồ sơ, người nhận, người
    nhận hồ sơ, người tiếp nhận, người tiếp nhận hồ sơ, cán bộ nhận, cán bộ tiếp nhận, người hướng dẫn,
    người liên hệ, liên hệ, người đề nghị, người góp ý, người viết, ký tên, người ký, trân trọng, kính thư,
    người giải quyết, cán bộ giải quyết, cán bộ thụ lý, người thụ lý"""
)
# Verbs after which a capitalised given name is a person: "Cảm ơn Trang", "gặp Hương", "nhờ Tâm".
NAME_VERBS = _phrases("cảm ơn, cám ơn, gặp, nhờ, khen, gửi lời cảm ơn, biểu dương, tuyên dương, phản ánh về, phê bình")

# Capitalised words that are not names where a name could be: titles, offices, institutions, days (the
# words that are also names are taken out below and kept as pairs in STOP_PAIRS).
_STOP_RAW = _words(
    """ubnd hđnd ủy uỷ ban bộ phận một cửa phòng sở cục chủ phó trưởng giám bí đảng hội mặt tổ đội quầy số
    khu phường xã quận huyện tỉnh thành phố thị trấn tiếng cổng dịch vụ hành chính ngân bệnh trường thôn ấp
    bản làng đường ngõ hẻm chợ cầu sông núi thứ chủ nhật tháng tết nghị định thông tư quyết luật công văn
    tờ giấy sổ thẻ mã bhyt bhxh cccd cmnd vneid zalo facebook email mail sđt đt tnhh uỷ ủy cảnh sát
    kho bạc thuế bưu điện viện tòa toà án kiểm sát thanh tra hải quan quân đội nhà nước chính phủ
    quốc hội việt nam trung tâm trạm hợp tác đại học cao đẳng học sinh viên hộ tịch tư pháp địa chính
    công an bảo vệ bảo hiểm tài nguyên môi xây dựng giáo dục lao động văn hóa hoá thông tin
    ban giám đốc điểm ok cảm ơn cám xin chào gửi kính mong đề nghị tôi mình em con các những nhiều
    rất lúc khi nếu nhưng và với hoặc của cho tại ở đến chiều tối trưa nay hôm mốt qua
    nội vụ ngoại kế toán thủ quỹ tục có không được phải đã đang sẽ vẫn còn cũng chỉ đây đó giáo hiệu"""
)
# Capitalised pairs that are offices or ordinary words although their first word can be a name.
STOP_PAIRS = _phrases(
    """trung tâm, trung ương, công an, công chứng, công ty, công chức, công văn, công dân, công đoàn, bảo vệ,
    bảo hiểm, văn phòng, văn hóa, văn hoá, văn thư, văn bản, thanh tra, thanh niên, thanh toán, hải quan,
    quốc hội, quốc gia, quốc tế, nhân dân, nhân viên, tài nguyên, tài chính, kế hoạch, thủy lợi, thuỷ lợi,
    địa chính, giáo dục, y tế, hộ tịch, tư pháp, đăng ký, thông tin, thông tư, nội vụ, cảnh sát, quân đội,
    quân sự, dân số, dân chính, phúc lợi, an ninh, an toàn, bình thường, minh bạch, kim đồng, hoa sen,
    chi cục, chi nhánh, chi bộ, chi hội, chi đoàn, đoàn thanh, hội phụ, mặt trận, tổ quốc, lâm nghiệp,
    nông nghiệp, minh phát, việt nam, thành phố,
    chủ nhật, thị trấn, thị xã, đại học, cao đẳng, học sinh, sinh viên, hợp tác, lao động, dịch vụ,
    quốc doanh, tư nhân, nhà nước, kim mã"""
)
# Provinces, cities and districts whose two words could both be names ("Thái Bình", "Hải Phòng").
_PLACE_PAIRS = _phrases(
    """sơn la, thái bình, thái nguyên, phú thọ, phú yên, hòa bình, vĩnh long, vĩnh phúc, long an, long biên,
    gia lai, kiên giang, an giang, thanh hóa, khánh hòa, ninh bình, ninh thuận, bình dương, bình định,
    bình thuận, bình phước, quảng ninh, tây ninh, hải phòng, hải dương, hải châu, đông ba, thủ đức,
    bình thạnh, tân bình, đông hòa, hà nội, hà giang, hà nam, hà tĩnh, hà đông, cao bằng, lâm đồng"""
)
STOP_PAIRS = STOP_PAIRS | _PLACE_PAIRS
# Places whose names begin like a person's ("Hà Nội", "Cao Bằng", "Bà Rịa") and people whose names are
# streets, wards and schools all over the country ("Lê Lợi", "Trần Hưng Đạo"): not removed without an
# honorific before them.
PLACE_NAMES = (
    _phrases(
        """hà nội, hà giang, hà nam, hà tĩnh, hà đông, hà tiên, hà tây, hồ chí minh, cao bằng, lâm đồng, thái bình,
    đồng nai, đồng tháp, đồng hới, đồng xoài, yên bái, ninh bình, ninh thuận, vũng tàu, mai châu, tân an,
    thái nguyên, phan thiết, phan rang, bà rịa, bà chiểu, bà điểm, bà đen, bà triệu, bà quẹo, hai bà trưng,
    ông lãnh, cô tô, hoàng mai, hoàng sa, trường sa, lý sơn, châu đốc, châu thành, tô lịch, hồ tây,
    hồ gươm, lê chân, ngô quyền, lê lợi, trần hưng đạo, quang trung, trần phú, lý thường kiệt, nguyễn trãi,
    nguyễn du, nguyễn huệ, lê duẩn, phan bội châu, phan chu trinh, võ thị sáu, lê quý đôn, chu văn an,
    trần quốc toản, lý thái tổ, lê thánh tông, đinh tiên hoàng, lê hồng phong, tôn đức thắng,
    nguyễn thị minh khai, võ nguyên giáp, nguyễn văn cừ, nguyễn văn trỗi, nguyễn chí thanh, trần nhân tông,
    bác hồ, anh quốc, lê văn sỹ, nguyễn đình chiểu, phạm ngũ lão, trần quang khải, nguyễn thái học, hoàng văn thụ,
    nguyễn văn linh, phạm văn đồng, trường chinh, hùng vương, lê văn lương, nguyễn tất thành, hồ tùng mậu,
    mạc đĩnh chi, đào duy từ, bà huyện thanh quan, hàn thuyên, trần khát chân, lý tự trọng, cao thắng,
    phạm hùng, lê đức thọ, đặng thái thân, đặng dung, phan đình phùng, nguyễn khuyến, lê hoàn,
    trần cao vân, cao bá quát, mai hắc đế, lê thái tổ, nguyễn công trứ, đào tấn, lê lai, ngô gia tự"""
    )
    | _PLACE_PAIRS
)
# Words after which capitalised words are a place's name: "đường Lê Lợi", "trường THCS Chu Văn An".
PLACE_WORDS = _words(
    """đường phố phường xã quận huyện tỉnh tp trường thcs thpt chợ cầu khu kp ấp thôn xóm bản làng ngõ ngách
    hẻm kiệt sông núi chùa"""
)
PLACE_PHRASES = _phrases(
    """thành phố, thị trấn, thị xã, tiểu học, mầm non, công viên, bệnh viện, khu phố, tổ dân phố, đại lộ,
    quảng trường, nhà văn hóa, nhà văn hoá, khu dân cư, khu đô thị"""
)
# Unaccented, "xa" and "tinh" are also "xa" (far) and "tình": after UBND or Công an they are the place words.
PLACE_PHRASES_FOLDED_ONLY = _phrases(
    """ubnd xa, ubnd tinh, ubnd quan, ubnd huyen, ubnd phuong, cong an xa, cong an tinh, cong an quan,
    cong an huyen, cong an phuong, uy ban nhan dan xa, uy ban nhan dan tinh, uy ban nhan dan quan, thi xa,
    thanh pho"""
)
# Unaccented place words that are not also a frequent word ("tinh" = tình, "cho" = cho, "xa" = xa).
PLACE_WORDS_FOLDED = _words("duong pho phuong huyen tp thcs thpt thon xom ngo ngach hem kiet")
# Pairs of a name word and the next word that make an ordinary word: "thái độ", "liên hệ", "thu phí".
COMPOUNDS = _phrases(
    """thái độ, liên hệ, phát hiện, phát số, sang quầy, thu hồ, thu phí, thu tiền, thu thập, thu nhận,
    hướng dẫn, tố cáo, đào tạo, duy nhất, hằng ngày, thông cảm, thanh toán, sinh năm, vui vẻ, vui tính,
    hiền lành, nhã nhặn, tâm huyết, tâm lý, trung thực, an tâm, an toàn, an ninh, bình tĩnh, bình thường,
    minh bạch, thành thật, thành công, linh hoạt, lành nghề, hạnh phúc, đông người, hồng hào, thảo luận,
    kiên nhẫn, kiên quyết, nhiệt tình, quyên góp, chi tiền, loan báo, yên tâm, mai mốt, trang phục,
    trang bị, hoa quả, ngân hàng, ngân sách, cường độ, dũng cảm, phong cách, phương án, phương tiện,
    trâm anh, sơn nhà, hà khắc, vân vân, lan man, giang hồ, nhung nhăng, diệp lục, hậu quả, hậu đậu,
    lưu ý, đô thị, hoàng gia, chữ ký, quan trọng, chu đáo, chú ý, chủ động, chỉ dẫn, chỉ đạo, chỉ cho, chị dâu,
    em gái, em trai, anh trai, chị gái, ông bà, bà con, cô chú, anh chị, cô dì, chú bác, ông nội, bà nội,
    ông ngoại, bà ngoại, bác sĩ, cô giáo, thầy giáo, bạn bè, nhân dân, anh văn, trấn an, ký tên, kính gửi,
    kính thư, hoàn thành, hoàn tất, thế nào, cung cấp, thiết bị, thiết thực, thực hiện, tạo điều, đại diện,
    đại khái, kiểm tra, trình bày, trực tiếp, năng động, nông thôn, lượng thứ, định danh, mã số, mã định"""
)

NAME_WORDS_COMMON = SURNAMES | MIDDLES | GIVEN | SIBLING_RANKS
STOP = _STOP_RAW - NAME_WORDS_COMMON
GIVEN = GIVEN | GIVEN_RARE
NAME_WORDS = NAME_WORDS_COMMON | GIVEN_RARE
# Everyday words are ambiguous as lower-case names whatever the lists say.
AMBIGUOUS_LOWER = AMBIGUOUS_LOWER | (COMMON & GIVEN)
AMBIGUOUS_FOLDED = AMBIGUOUS_FOLDED | _folded(COMMON) | _folded(AMBIGUOUS_LOWER)

# Folded forms for comments typed without diacritics.
SURNAMES_FOLDED = _folded(SURNAMES)
# Unaccented, fewer are unambiguous: "dang" is also "đang", "bui" "bụi", "truong" "trường".
SURNAMES_UNAMBIGUOUS_FOLDED = _words("nguyen pham huynh quach phung nghiem khuong tran")
MIDDLES_FOLDED = _folded(MIDDLES)
GIVEN_FOLDED = _folded(GIVEN)
SIBLING_RANKS_FOLDED = _folded(SIBLING_RANKS)
NAME_WORDS_FOLDED = _folded(NAME_WORDS)
# Unaccented, a stop word that folds to a common name ("phòng" → "phong") is kept as a possible name.
STOP_FOLDED = _folded(STOP) - _folded(NAME_WORDS_COMMON)
STOP_PAIRS_FOLDED = _folded_phrases(STOP_PAIRS)
PLACE_NAMES_FOLDED = _folded_phrases(PLACE_NAMES)
PLACE_PHRASES_FOLDED = _folded_phrases(PLACE_PHRASES) | PLACE_PHRASES_FOLDED_ONLY
AFTER_NAME_PHRASES_FOLDED = _folded_phrases(AFTER_NAME_PHRASES)
INTRODUCERS_FOLDED = _folded_phrases(INTRODUCERS)
NAME_VERBS_FOLDED = _folded_phrases(NAME_VERBS)
COMPOUNDS_FOLDED = _folded_phrases(COMPOUNDS)
HONORIFICS_FOLDED = HONORIFICS_FOLDED_STRONG | HONORIFICS_FOLDED_WEAK
