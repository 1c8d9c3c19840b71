"""Questions with one right answer each, for checking that every reply went to the right chat.

Used by the load smoke test and tests/load_bench.py: the admin uploads `facts_document()`;
`question_for(city)` is answered with that city's manager, a name found nowhere else.
"""

from __future__ import annotations

FACTS = (
    ("서울", "한가람"), ("부산", "두루미"), ("대구", "세나래"), ("인천", "네오름"), ("광주", "다솜결"),
    ("대전", "여울빛"), ("울산", "이든샘"), ("세종", "라온비"), ("수원", "마루솔"), ("창원", "바다숲"),
    ("청주", "아라별"), ("전주", "하늬솔"), ("천안", "가온길"), ("포항", "미리내"), ("제주", "누리봄"),
    ("김해", "별하랑"), ("원주", "새벽결"), ("춘천", "온새미"), ("목포", "해솔찬"), ("여수", "윤슬빛"),
)


def facts_document() -> str:
    lines = ["# 지점별 책임자 안내", ""]
    for number, (city, name) in enumerate(FACTS, 1):
        lines += [
            f"## {city} 지점", "",
            (
                f"{city} 지점의 책임자는 {name} 님입니다. {city} 지점은 {number + 2}층 건물에 있으며 "
                "평일 오전 9시부터 문을 엽니다."
            ),
            "",
        ]
    return "\n".join(lines)


def question_for(city: str) -> str:
    return f"{city} 지점의 책임자는 누구인가요?"


def answer_for(city: str) -> str:
    return dict(FACTS)[city]


def city_of_reply(text: str) -> str | None:
    """The city whose manager is named in the answer (the reply's first paragraph, before
    its citations and related passages), else None."""
    answer = text.split("\n\n", 1)[0]
    found = [city for city, name in FACTS if name in answer]
    return found[0] if len(found) == 1 else None
