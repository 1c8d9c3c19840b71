"""The index snapshot: incremental changes equal a rebuild; the saved file round-trips or is refused."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import pytest

from corpus.store import Store
from retrieval import kernels
from retrieval.bm25 import BM25Params, idf
from retrieval.engine import Engine
from retrieval.index import IndexEntry, IndexSnapshot, _joined, term_keys
from retrieval.terms import TERMS_VERSION

TAG = {"generation": 3, "settings": "test"}
WORDS = [f"t{i}" for i in range(200)] + ["서울", "부산", "#서울", "#울특"]


def entries(seed: int, count: int, first_row: int = 1) -> list[IndexEntry]:
    rng = random.Random(seed)
    return [
        IndexEntry(first_row + i, f"doc{(first_row + i) // 7}", [rng.choice(WORDS[: rng.randint(3, len(WORDS))]) for _ in range(rng.randint(1, 40))])
        for i in range(count)
    ]


def queries(seed: int, count: int = 60) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(1, 8))] for _ in range(count)]


def assert_same_index(a: IndexSnapshot, b: IndexSnapshot) -> None:
    assert len(a) == len(b)
    assert a.row_ids.tolist() == b.row_ids.tolist()
    assert a.doc_ids.tolist() == b.doc_ids.tolist()
    for query in queries(11):
        assert np.array_equal(a.all_scores(query), b.all_scores(query))
        assert a.search(query, 10) == b.search(query, 10)
        assert [a.document_frequency(t) for t in query] == [b.document_frequency(t) for t in query]
        assert [a.term_idf(t) for t in query] == [b.term_idf(t) for t in query]


@pytest.mark.parametrize("variant", ["bm25l", "okapi", "lucene"])
def test_term_statistics_match_the_index_counts(variant: str) -> None:
    params = BM25Params(variant, 1.2, 0.75, 0.5)
    built = entries(4, 120)
    snapshot = IndexSnapshot.build(built, params)
    counts = {term: sum(term in entry.terms for entry in built) for term in WORDS}
    every_idf = idf(np.array([counts[t] for t in WORDS], dtype=np.float64), len(built), params)
    unseen_idf = float(idf(np.array([1.0]), len(built), params)[0])
    batch = ["서울", "없는말", "t3", "서울", "#울특"]
    stats = snapshot.term_statistics(batch)
    for term in [*batch, "t150", "또없는말"]:  # the last two are looked up outside the batch
        assert stats.document_frequency(term) == counts.get(term, 0)
        expected = float(every_idf[WORDS.index(term)]) if counts.get(term) else unseen_idf
        assert stats.idf(term) == pytest.approx(expected, rel=1e-12)
        assert stats.idf(term) == snapshot.term_idf(term)


def test_incremental_add_equals_a_rebuild() -> None:
    first, second, third = entries(1, 150), entries(2, 30, 151), entries(3, 1, 181)
    params = BM25Params()
    grown = IndexSnapshot.build(first, params).with_entries(second).with_entries(third)
    assert_same_index(grown, IndexSnapshot.build(first + second + third, params))


def test_removing_a_document_equals_a_rebuild_without_it() -> None:
    everything = entries(4, 200)
    params = BM25Params()
    removed = IndexSnapshot.build(everything, params).without_document("doc5")
    assert "doc5" not in removed.doc_ids.tolist()
    assert_same_index(removed, IndexSnapshot.build([e for e in everything if e.doc_id != "doc5"], params))


def test_a_term_only_the_removed_document_had_is_unknown_again() -> None:
    params = BM25Params()
    snapshot = IndexSnapshot.build([IndexEntry(1, "a", ["고유어", "공통"]), IndexEntry(2, "b", ["공통"])], params)
    removed = snapshot.without_document("a")
    assert removed.document_frequency("고유어") == 0
    assert removed.search(["고유어"], 5) == []
    assert removed.all_scores(["고유어", "공통"]).tolist() == IndexSnapshot.build(
        [IndexEntry(2, "b", ["공통"])], params
    ).all_scores(["고유어", "공통"]).tolist()


def test_term_lookup_finds_every_vocabulary_term_and_no_other() -> None:
    words = [f"어휘{i}" for i in range(50_000)]
    keys = term_keys(words)
    order = np.argsort(keys)
    ids = order.astype(np.int32)  # term id i is words[i]
    held = np.arange(len(words) + 1, dtype=np.int64)
    held[-1] = held[-2]  # the last term's list is empty: no chunk holds it any more
    rng = random.Random(7)
    asked = rng.sample(words, 300) + [words[order[0]], words[order[-1]], words[-1]] + [f"없는{i}" for i in range(100)]
    rng.shuffle(asked)
    expected = [int(w[2:]) if w.startswith("어휘") and w != words[-1] else -1 for w in asked]
    found = kernels.term_ids(_joined(asked), keys[order], ids, held)
    assert found.tolist() == expected


def test_snapshots_are_never_changed_by_later_ones() -> None:
    params = BM25Params()
    before = IndexSnapshot.build(entries(5, 50), params)
    scores = [before.all_scores(q) for q in queries(12, 10)]
    before.with_entries(entries(6, 20, 51)).without_document("doc3")
    assert all(np.array_equal(s, before.all_scores(q)) for s, q in zip(scores, queries(12, 10)))


def test_weight_bounds_kept_through_edits_stay_bounds_and_hits_stay_exact(tmp_path: Path) -> None:
    params = BM25Params()
    kept = entries(9, 600)
    snapshot = IndexSnapshot.build(kept, params)
    rng = random.Random(10)
    stale_seen = recomputed = 0
    for step in range(40):
        if step % 3 == 2:
            doc = rng.choice(sorted(set(snapshot.doc_ids.tolist())))
            snapshot = snapshot.without_document(doc)
            kept = [e for e in kept if e.doc_id != doc]
        else:  # one chunk, short or long, so avgdl moves both ways
            words = [rng.choice(WORDS) for _ in range(rng.choice([2, 60, 200]))]
            added = IndexEntry(10_000 + step, f"new{step}", words)
            snapshot = snapshot.with_entries([added])
            kept.append(added)
        exact = kernels.max_normalised_tf(*snapshot._kernel_arrays, snapshot.inverse_norm)
        assert np.all(snapshot.max_ntf >= exact)
        if snapshot.bound_staleness:
            stale_seen += 1
            assert not np.array_equal(snapshot.max_ntf, exact)
        else:
            recomputed += 1
            assert np.array_equal(snapshot.max_ntf, exact)
    assert stale_seen and recomputed  # both paths were taken
    if not snapshot.bound_staleness:
        snapshot = snapshot.with_entries([IndexEntry(20_000, "last", ["t1", "t2"])])
        kept.append(IndexEntry(20_000, "last", ["t1", "t2"]))
    assert 0 < snapshot.bound_staleness <= 0.05
    rebuilt = IndexSnapshot.build(kept, params)
    assert_same_index(snapshot, rebuilt)
    path = tmp_path / "bm25.idx"
    snapshot.save(path, TAG)
    loaded = IndexSnapshot.load(path, TAG, params)
    assert loaded is not None and loaded.bound_staleness == snapshot.bound_staleness
    assert np.array_equal(loaded.max_ntf, snapshot.max_ntf)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    params = BM25Params()
    snapshot = IndexSnapshot.build(entries(7, 120), params)
    path = tmp_path / "index" / "bm25.index"
    snapshot.save(path, TAG)
    loaded = IndexSnapshot.load(path, TAG, params)
    assert loaded is not None
    assert_same_index(loaded, snapshot)
    # a loaded (memory-mapped) snapshot still grows and shrinks like a built one
    assert_same_index(
        loaded.with_entries(entries(8, 10, 121)).without_document("doc2"),
        snapshot.with_entries(entries(8, 10, 121)).without_document("doc2"),
    )


def test_empty_snapshot_round_trips(tmp_path: Path) -> None:
    params = BM25Params()
    path = tmp_path / "bm25.index"
    IndexSnapshot.empty(params).save(path, TAG)
    loaded = IndexSnapshot.load(path, TAG, params)
    assert loaded is not None and len(loaded) == 0
    assert loaded.search(["서울"], 5) == []


def test_stale_or_foreign_settings_are_not_loaded(tmp_path: Path) -> None:
    params = BM25Params()
    path = tmp_path / "bm25.index"
    IndexSnapshot.build(entries(9, 20), params).save(path, TAG)
    assert IndexSnapshot.load(path, {**TAG, "generation": 4}, params) is None
    assert IndexSnapshot.load(path, TAG, BM25Params(k1=1.2)) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:10],
        lambda data: b"",
        lambda data: b"PK\x03\x04 an old npz or any other file" + data[40:],  # foreign
        lambda data: data[:8] + (10**9).to_bytes(8, "little") + data[16:],  # header length garbage
        lambda data: data[:16] + b"{not json" + data[25:],
        lambda data: data + b"\0" * 64,  # trailing bytes
    ],
)
def test_damaged_files_are_refused(tmp_path: Path, damage) -> None:
    params = BM25Params()
    path = tmp_path / "bm25.index"
    IndexSnapshot.build(entries(10, 30), params).save(path, TAG)
    path.write_bytes(damage(path.read_bytes()))
    assert IndexSnapshot.load(path, TAG, params) is None


def test_engine_rebuilds_a_damaged_index_from_the_store(tmp_path: Path, analyzer) -> None:
    index_path = tmp_path / "index" / "bm25.index"
    engine = Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path)
    engine.seed_if_new()
    expected = engine.ask("1차 평가에서 탈락한 팀은 어디야?")
    engine.close()
    index_path.write_bytes(index_path.read_bytes()[:100])
    with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as reopened:
        assert reopened.ask("1차 평가에서 탈락한 팀은 어디야?") == expected
    # the rebuilt index was saved again and is what the next start loads
    with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as again:
        assert isinstance(again.snapshot.indices, np.ndarray) and again.snapshot.indices.base is not None
        assert again.ask("1차 평가에서 탈락한 팀은 어디야?") == expected


def test_an_index_saved_under_other_term_rules_is_rebuilt(
    tmp_path: Path, analyzer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    index_path = tmp_path / "index" / "bm25.index"
    monkeypatch.setattr("retrieval.settings.TERMS_VERSION", TERMS_VERSION - 1)
    with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as engine:
        engine.seed_if_new()
    monkeypatch.undo()
    caplog.set_level(logging.DEBUG, logger="retrieval.engine")
    rebuilt = []
    for _ in range(2):
        caplog.clear()
        with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as reopened:
            assert len(reopened.snapshot) > 0
        rebuilt.append("built from the store" in caplog.text)
    assert rebuilt == [True, False]  # rebuilt once, then its saved file is what the next start loads


def test_damage_inside_the_arrays_is_caught_by_the_checksum(tmp_path: Path) -> None:
    params = BM25Params()
    path = tmp_path / "bm25.index"
    IndexSnapshot.build(entries(12, 60), params).save(path, TAG)
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x10  # a bit flip inside the arrays; header and size intact
    path.write_bytes(bytes(data))
    assert IndexSnapshot.load(path, TAG, params) is None


def test_a_large_damaged_index_is_served_then_replaced_after_the_background_check(
    tmp_path: Path, analyzer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("retrieval.index.VERIFY_INLINE_BYTES", 0)  # every file counts as large
    index_path = tmp_path / "index" / "bm25.index"
    with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as engine:
        engine.seed_if_new()
        expected = engine.ask("1차 평가에서 탈락한 팀은 어디야?")
    data = bytearray(index_path.read_bytes())
    data[-300] ^= 0x01
    index_path.write_bytes(bytes(data))
    engine = Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path)
    loaded = engine.snapshot
    assert loaded.unverified is not None  # served at once, checked in the background
    engine.wait_for_index_check()
    assert engine.snapshot is not loaded
    assert "damaged" in caplog.text
    engine.close()
    with Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=index_path) as again:
        assert again.ask("1차 평가에서 탈락한 팀은 어디야?") == expected


def test_counts_widen_when_a_chunk_repeats_a_term_more_than_255_times(tmp_path: Path) -> None:
    """Counts are stored in one byte while they fit; a longer run widens them and scores stay exact."""
    small = IndexSnapshot.build(entries(21, 50), BM25Params())
    assert small.term_counts.dtype == np.uint8
    repeated = IndexEntry(1000, "repeat", ["서울"] * 300 + ["t1"])
    grown = small.with_entries([repeated])
    assert grown.term_counts.dtype == np.uint16
    assert_same_index(grown, IndexSnapshot.build([*entries(21, 50), repeated], BM25Params()))
    assert grown.search(["서울"], 1)[0].row_id == 1000
    grown.save(tmp_path / "index.bin", TAG)
    assert_same_index(IndexSnapshot.load(tmp_path / "index.bin", TAG, BM25Params()), grown)


@pytest.mark.parametrize("dtype", [np.int32, np.uint64])
def test_interpolated_seek_lands_where_a_binary_search_does(dtype):
    """Chunk positions (int32) and vocabulary keys (uint64): evenly spread, clustered, short and
    one-element runs, targets before, between, on and after the values."""
    rng = np.random.default_rng(7)
    top = 5_000 if dtype == np.int32 else 2**64 - 1
    for trial in range(400):
        size = int(rng.integers(1, 300))
        if trial % 3 == 0:  # one dense cluster among a few outliers: interpolation guesses badly
            values = np.unique(np.concatenate([rng.integers(0, 40, size), rng.integers(0, top // 2, 3)]))
        else:
            values = np.unique(rng.integers(0, top // 2, size, dtype=np.uint64 if dtype == np.uint64 else np.int64))
        values = values.astype(dtype)
        lo = int(rng.integers(0, values.size + 1))
        end = int(rng.integers(lo, values.size + 1))
        targets = np.concatenate([values, values + 1, rng.integers(0, top // 2, 20).astype(dtype), [0, top // 2 + 1]])
        for target in targets.astype(dtype):
            assert kernels._seek(values, lo, end, target) == lo + np.searchsorted(values[lo:end], target)


def test_an_index_saved_under_its_old_name_is_renamed_and_used(tmp_path: Path, analyzer, caplog) -> None:
    """Releases before 0.2 saved the same file as bm25.npz: it is kept, not rebuilt."""
    from bot.app import open_engine
    from bot.settings import Settings

    settings = Settings(data_dir=tmp_path)
    with open_engine(settings, warm_up=False):
        pass
    settings.index_path.rename(settings.legacy_index_path)
    with caplog.at_level(logging.DEBUG, logger="retrieval"), open_engine(settings, warm_up=False) as engine:
        assert engine.ask("1차 평가에서 탈락한 팀은 어디야?").answered
    assert settings.index_path.is_file() and not settings.legacy_index_path.exists()
    assert "built from the store" not in caplog.text
