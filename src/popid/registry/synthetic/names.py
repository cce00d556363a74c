"""Vietnamese name parts with realistic weights.

Surname shares follow published estimates (Nguyễn ≈ 38 %, Trần ≈ 11 %, Lê ≈ 9.5 %, Phạm ≈ 7 %,
Hoàng/Huỳnh ≈ 5 %, ...). Hoàng and Vũ are the northern spellings of Huỳnh and Võ: the south
(2025 provinces from Đắk Lắk/Lâm Đồng southwards) gets Huỳnh and Võ instead.
"""

from __future__ import annotations

# (surname, weight in %). "Hoàng" and "Vũ" are regionalised by ``surname_table``.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Hoàng", 5.0),
    ("Phan", 4.5), ("Vũ", 3.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.8), ("Trương", 0.8), ("Lương", 0.6),
    ("Đào", 0.6), ("Mai", 0.5), ("Cao", 0.5), ("Lâm", 0.5), ("Trịnh", 0.5), ("Tô", 0.3),
    ("Hà", 0.5), ("Tạ", 0.3), ("Chu", 0.2), ("Thái", 0.3), ("La", 0.2), ("Kiều", 0.2),
    ("Quách", 0.2), ("Lưu", 0.3), ("Văn", 0.2), ("Châu", 0.2), ("Tăng", 0.1), ("Khúc", 0.05),
    ("Lò", 0.2), ("Lục", 0.1), ("Nông", 0.3), ("Triệu", 0.3), ("Thạch", 0.2), ("Y", 0.1),
)
SOUTHERN_SPELLING = {"Hoàng": "Huỳnh", "Vũ": "Võ"}
# 2025 province codes counted as the south for surname spelling.
SOUTHERN_PROVINCES = frozenset({"66", "68", "75", "79", "80", "82", "86", "91", "92", "96"})
# Central provinces use both spellings about equally.
CENTRAL_PROVINCES = frozenset({"42", "44", "46", "48", "51", "52", "56"})

MALE_MIDDLE: tuple[tuple[str, float], ...] = (
    ("Văn", 30), ("Đức", 10), ("Minh", 12), ("Quốc", 7), ("Hữu", 7), ("Công", 5), ("Thành", 5),
    ("Xuân", 3), ("Hoàng", 4), ("Anh", 3), ("Tuấn", 2), ("Gia", 4), ("Trọng", 3), ("Đình", 4),
    ("Thanh", 3), ("Ngọc", 2), ("Duy", 3), ("Quang", 4), ("Bảo", 3), ("Trung", 2), ("Khánh", 1),
)
FEMALE_MIDDLE: tuple[tuple[str, float], ...] = (
    ("Thị", 40), ("Ngọc", 8), ("Thu", 5), ("Thanh", 5), ("Minh", 5), ("Phương", 3), ("Kim", 4),
    ("Hoài", 2), ("Bảo", 3), ("Khánh", 3), ("Thúy", 3), ("Mai", 2), ("Diệu", 2), ("Hồng", 3),
    ("Như", 2), ("Quỳnh", 2), ("Gia", 3), ("Hải", 2), ("Tuyết", 1), ("Bích", 2),
)
MALE_GIVEN: tuple[tuple[str, float], ...] = (
    ("An", 4), ("Anh", 6), ("Bảo", 3), ("Bình", 4), ("Cường", 4), ("Dũng", 6), ("Duy", 3),
    ("Đạt", 4), ("Đức", 5), ("Hải", 5), ("Hiếu", 4), ("Hoàng", 4), ("Hùng", 6), ("Huy", 6),
    ("Khang", 3), ("Khánh", 3), ("Khoa", 3), ("Kiên", 2), ("Long", 5), ("Lâm", 2), ("Mạnh", 3),
    ("Minh", 7), ("Nam", 6), ("Nghĩa", 3), ("Phong", 3), ("Phúc", 4), ("Quân", 4), ("Quang", 4),
    ("Sơn", 5), ("Tài", 3), ("Tâm", 3), ("Thắng", 4), ("Thành", 5), ("Thịnh", 2), ("Toàn", 3),
    ("Trung", 4), ("Tuấn", 6), ("Tùng", 3), ("Việt", 3), ("Vinh", 3), ("Vũ", 2), ("Hưng", 4),
    ("Lộc", 2), ("Nhân", 2), ("Phát", 2), ("Thái", 2), ("Trí", 2), ("Hậu", 2), ("Tiến", 3),
)
FEMALE_GIVEN: tuple[tuple[str, float], ...] = (
    ("Anh", 5), ("Ánh", 2), ("Bích", 2), ("Châu", 2), ("Chi", 3), ("Dung", 3), ("Dương", 2),
    ("Giang", 3), ("Hà", 5), ("Hạnh", 3), ("Hằng", 4), ("Hiền", 3), ("Hoa", 4), ("Hồng", 3),
    ("Huệ", 2), ("Hương", 6), ("Huyền", 4), ("Lan", 5), ("Liên", 2), ("Linh", 6), ("Loan", 3),
    ("Ly", 3), ("Mai", 5), ("My", 3), ("Nga", 4), ("Ngân", 3), ("Ngọc", 4), ("Nhung", 3),
    ("Oanh", 2), ("Phương", 5), ("Quỳnh", 3), ("Tâm", 2), ("Thảo", 5), ("Thu", 3), ("Thủy", 4),
    ("Thư", 3), ("Trang", 6), ("Trâm", 2), ("Tuyết", 2), ("Uyên", 2), ("Vân", 3), ("Vy", 3),
    ("Yến", 3), ("Xuân", 2), ("Nhi", 3), ("Hòa", 2), ("Lụa", 1), ("Nguyệt", 2), ("Khánh", 2),
)

STREETS: tuple[str, ...] = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Nguyễn Huệ", "Lê Duẩn", "Điện Biên Phủ", "Hùng Vương", "Phan Chu Trinh", "Ngô Quyền",
    "Nguyễn Du", "Bà Triệu", "Trần Phú", "Lê Lai", "Hoàng Diệu", "Võ Thị Sáu", "Nguyễn Văn Cừ",
    "Lạc Long Quân", "Tôn Đức Thắng", "Cách Mạng Tháng Tám", "Phạm Văn Đồng", "Nguyễn Thị Minh Khai",
    "Trường Chinh", "Lê Thánh Tông", "Hàng Bạc", "Hàng Đào", "Đinh Tiên Hoàng", "Lý Tự Trọng",
)
VILLAGE_WORDS: tuple[str, ...] = (
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "An", "Phú", "Tân", "Hòa", "Bình",
    "Thạnh", "Mỹ", "Long", "Lợi", "Thịnh", "Yên", "Đoài", "Cầu",
)
