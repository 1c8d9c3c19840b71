"""The methods the evaluation measures: in-memory corpora, the sentence-window rerank, answer choice, refusal."""

from __future__ import annotations

from corpus.bundled import bundled_documents
from corpus.document import make_document
from corpus.loaders import load_path
from retrieval.engine import clean_question
from retrieval.evaluation_corpus import AnalysisCache, MemoryCorpus, SourceText
from retrieval.rerank import window_share
from retrieval.settings import DEFAULT_SETTINGS
from tests.conftest import DATA

PARAGRAPHS = [
    SourceText("0", "고양이", "고양이는 조용한 동물이다. 고양이는 밤에 활동한다. 집고양이는 생선을 자주 먹는다. 고양이는 하루에 열여섯 시간을 잔다."),
    SourceText("1", "강아지", "강아지는 사람을 잘 따른다. 강아지는 1만 5천 년 전에 가축이 되었다. 강아지는 산책을 좋아한다."),
    SourceText("2", "고양이", "고양이는 조용한 동물이다. 고양이는 밤에 활동한다. 집고양이는 생선을 자주 먹는다. 고양이는 하루에 열여섯 시간을 잔다."),
]


def ask(corpus: MemoryCorpus, analyzer, question: str, top_k: int = 5):
    text = clean_question(question)
    return corpus.ask(question, text, analyzer.content_tokens(text), top_k)


def test_memory_corpus_keeps_duplicate_paragraphs_apart(analyzer):
    squad = DEFAULT_SETTINGS.with_changes(collapse_copies=False)  # as `qabot eval` answers a SQuAD file
    corpus = MemoryCorpus.build(PARAGRAPHS, AnalysisCache(analyzer), squad)
    assert sorted({chunk.doc_id for chunk in corpus.chunks.values()}) == ["0", "1", "2"]
    answer = ask(corpus, analyzer, "고양이는 하루에 몇 시간을 자나요?")
    assert {p.doc_id for p in answer.passages[:2]} == {"0", "2"}


def test_analysis_cache_analyses_each_text_once(analyzer):
    calls = []

    class Counting:
        def analyse_many(self, texts):
            calls.append(list(texts))
            return analyzer.analyse_many(texts)

    cache = AnalysisCache(Counting())
    MemoryCorpus.build(PARAGRAPHS, cache, DEFAULT_SETTINGS)
    MemoryCorpus.build(PARAGRAPHS, cache, DEFAULT_SETTINGS.with_changes(tokenizer="morphemes"))
    analysed = [text for call in calls for text in call]
    assert len(analysed) == len(set(analysed)) == 4  # two distinct paragraphs and two titles, each once


def test_window_share_prefers_terms_together(analyzer):
    together = SourceText("a", "문서", "사과는 빨갛다. 바나나는 노랗다. 포도는 보라색이고 맛이 달다.")
    apart = SourceText("b", "문서", "포도는 자란다. 사과도 자란다. 바나나도 자란다. 맛이 좋다. 보라색 꽃이 핀다.")
    corpus = MemoryCorpus.build([together, apart], AnalysisCache(analyzer), DEFAULT_SETTINGS)
    weights = {"포도": 1.0, "보라색": 1.0, "맛": 1.0}
    first, second = corpus.chunks[1], corpus.chunks[2]
    assert window_share(first, weights, {}, 1) == 3.0
    assert window_share(second, weights, {}, 1) == 1.0
    assert window_share(second, weights, {}, 2) == 2.0


def test_answer_is_one_or_two_sentences_and_brings_the_number(analyzer):
    corpus = MemoryCorpus.build(PARAGRAPHS[:2], AnalysisCache(analyzer), DEFAULT_SETTINGS)
    answer = ask(corpus, analyzer, "강아지는 몇 년 전에 가축이 되었나?")
    assert answer.answered and "1만 5천 년" in answer.text
    assert answer.text.count(".") <= 2 and len(answer.text) < len(PARAGRAPHS[1].text)


def test_refuses_what_the_corpus_does_not_hold(analyzer):
    corpus = MemoryCorpus.build(PARAGRAPHS[:2], AnalysisCache(analyzer), DEFAULT_SETTINGS)
    for question in ("오늘 서울 날씨 알려줘", "비트코인 시세는 얼마야?", "삼성전자 주가 알려줘"):
        assert not ask(corpus, analyzer, question).answered


def test_engine_and_memory_corpus_answer_alike(bundled_engine, analyzer):
    """Engine.ask and the evaluator share one path (retrieval.qa), so eval measures what users get."""
    path = next(iter(bundled_documents()))
    document = make_document(load_path(path).text, path.name)
    info = bundled_engine.store.documents()[0]
    corpus = MemoryCorpus.build([SourceText(info.id, document.title, document.text)], AnalysisCache(analyzer), DEFAULT_SETTINGS)
    for line in (DATA / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines():
        question = __import__("json").loads(line)["question"]
        from_engine, from_memory = bundled_engine.ask(question), ask(corpus, analyzer, question)
        assert (from_engine.answered, from_engine.text) == (from_memory.answered, from_memory.text)
        assert [p.text for p in from_engine.passages] == [p.text for p in from_memory.passages]
