"""The generated text of the benchmark's stories: Korean sentences from a fixed vocabulary,
drawn from seeded random numbers, so every run builds the same site (bench/seed.py).

Bodies come in BODY_VARIANTS variants shared by many stories (each rendered once); titles are
one per story. Two words are planted in titles at a known rate, for search at every size:
COMMON_WORD in one story of COMMON_EVERY (5,000 matches at 100,000 stories), RARE_WORD in
RARE_COUNT stories whatever the size. No other generated text holds either word.
"""

import random

BODY_VARIANTS = 200
COMMON_WORD = "온콜"
COMMON_EVERY = 20
RARE_WORD = "칸반"
RARE_COUNT = 5

WORDS = [
    "개발팀", "서비스", "데이터베이스", "연결", "풀링", "트랜잭션", "배포", "코드", "리뷰",
    "온보딩", "장애", "회고", "모니터링", "검색", "인덱스", "캐시", "백엔드", "프론트엔드",
    "디자인", "시스템", "채용", "문화", "성장", "주니어", "시니어", "멘토링", "파이프라인",
    "쿼리", "성능", "지표", "실험", "고객", "제품", "기획", "협업", "문서", "테스트", "자동화",
    "인프라", "클라우드", "컨테이너", "큐", "메시지", "동시성", "스레드", "워커", "요청", "응답",
    "지연", "처리량", "병목", "로그", "알림", "대시보드",
]  # fmt: skip
LATIN = [
    "Django", "PostgreSQL", "SQLite", "Redis", "Kotlin", "Python", "QueuePool", "pool_size",
    "Kafka", "gunicorn",
]  # fmt: skip
ENDINGS = ["합니다.", "했습니다.", "입니다.", "봤습니다.", "됩니다.", "있습니다."]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["하늘", "서연", "민준", "지우", "도윤", "하은", "시우", "수아", "지호", "예린"]


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(5, 11))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(LATIN))
    return " ".join(words) + "을 " + rng.choice(ENDINGS)


def body(rng: random.Random) -> str:
    """A Markdown body of 3–5 sections (about 4,000 characters)."""
    parts = []
    for section in range(rng.randint(3, 5)):
        parts.append(f"## {rng.choice(WORDS)} {rng.choice(WORDS)} 이야기 {section + 1}")
        for _ in range(rng.randint(2, 4)):
            parts.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))))
        if rng.random() < 0.3:
            parts.append(f"> “{sentence(rng)}”")
        if rng.random() < 0.2:
            parts.append("```python\nfor row in rows:\n    print(row)\n```")
    return "\n\n".join(parts)


def bodies(seed: int = 20261125) -> list[str]:
    rng = random.Random(seed)
    return [body(rng) for _ in range(BODY_VARIANTS)]


def title(rng: random.Random, number: int, count: int) -> str:
    """Story `number` of `count`: a few words, the planted words where they belong, and the
    number (titles are unique)."""
    words = [rng.choice(WORDS), rng.choice(WORDS)]
    if number % COMMON_EVERY == 0:
        words.insert(1, COMMON_WORD)
    if has_rare_word(number, count):
        words.append(RARE_WORD)
    return f"{' '.join(words)}에 대한 {rng.choice(WORDS)} 이야기 {number}"


def has_rare_word(number: int, count: int) -> bool:
    step = max(1, count // RARE_COUNT)
    return number % step == step // 2 and number // step < RARE_COUNT


def person_name(number: int) -> str:
    return (
        f"{SURNAMES[number % len(SURNAMES)]}{GIVEN[number // len(SURNAMES) % len(GIVEN)]}{number}"
    )
