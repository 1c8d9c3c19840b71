"""The index's compiled loops: term keys, weight bounds, and a whole top-k query.

A question has a few dozen terms (morphemes and character bigrams), and its commonest
bigrams' posting lists cover a large part of the corpus. Per-term numpy calls cost more
than the arithmetic at that size, so the loops are compiled with numba (cached on disk
beside this file: a new install compiles them once, in about 15 s on two cores). Indexes
below acceleration.COMPILED_FROM chunks use retrieval.plain_kernels instead, which give
the same results without a compiler; retrieval.acceleration decides and loads these.

`search` is term-at-a-time with the "quit/continue" rule of dynamic pruning: terms are
read in decreasing order of their score bound, adding every chunk they hold to the
accumulators, until no chunk held by none of them could still reach the k-th best
partial score; the k-th best is bounded from below by fully scoring the k chunks leading
so far. The remaining (common, low-bound) terms are then read for the surviving
candidates only: a list much longer than the survivors is searched (galloping), a shorter
one read whole, and candidates that can no longer reach the k-th best are dropped after
each term. Weights are computed from the counts on the fly (f - f(0) of BM25, see
retrieval.bm25.saturation), so the index stores no per-posting weights; the accumulators
are float32 beside each chunk's 1/norm, so that reading a posting touches one cache line.
The survivors are then rescored with rank-bm25's own operations in its order, so the
ranking and its ties are the reference's bit for bit.

A query is planned once (`plan`); its candidates can be found per range of chunks
(`candidates`) and rescored there, so a large index searches and rescores both halves at
once (`search_halves`, a thread each) and keeps the best of their union.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings

import numpy as np
from llvmlite import ir
from numba import config, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from retrieval.plain_kernels import FNV_OFFSET, FNV_PRIME, SEPARATOR, SPLITMIX, VARIANT_CODES

log = logging.getLogger(__name__)

# Questions are answered on several threads at once, and numba's own "workqueue" threading
# layer aborts when two threads use it: search_halves runs on OpenMP or TBB only.
config.THREADING_LAYER = "threadsafe"

# Survivors are kept down to (1 - slack) of the k-th best partial score, so the exact
# rescoring sees every contender, ties included. Partial scores add float32 accumulators,
# each add rounding by at most FLOAT32_ROUNDING of the sum: a query of m terms gets
# SLACK + 4·(m + 2)·FLOAT32_ROUNDING, twice the worst case of both sides of a comparison.
BM25L, OKAPI, LUCENE = VARIANT_CODES["bm25l"], VARIANT_CODES["okapi"], VARIANT_CODES["lucene"]
SLACK = 1e-9
FLOAT32_ROUNDING = 2.0**-24
PREFETCH = 16  # how many postings ahead a chunk's accumulator row is asked for
SEEK_PREFETCH_FROM = 64  # postings from which a list's searches ask for their lines first
SCAN_RATIO = 32  # a list up to this many times the survivors is read whole rather than searched
SORT_LIMIT = 256  # survivors are sorted up to 1/256 of the chunks, collected from their bits above
LOW_BIT = np.zeros(129, np.int64)  # the position of a byte's lowest set bit, by that bit's value
LOW_BIT[1 << np.arange(8)] = np.arange(8)
_FNV_OFFSET = np.uint64(FNV_OFFSET)
_FNV_PRIME = np.uint64(FNV_PRIME)
_SPLITMIX = (np.uint64(SPLITMIX[0]), np.uint64(SPLITMIX[1]))


def _prefetch_codegen(write: int):
    """LLVM code asking for the cache line of array[index] (the row's first item of a 2-D
    array), for writing or for reading: a hint, results are the same."""

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        values = context.make_array(array_type)(context, builder, args[0])
        at = context.cast(builder, args[1], index_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(context, builder, array_type, values, [at] + [zero] * (array_type.ndim - 1))
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0"
        )
        # llvm.prefetch(address, write, keep in every cache level, data)
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), i32(write), i32(3), i32(1)])
        return context.get_dummy_value()

    return codegen


if config.DISABLE_JIT:  # plain Python (NUMBA_DISABLE_JIT=1): a cache hint has nothing to do
    # and numpy's scalars warn where compiled code wraps around as the hashes mean to
    warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning, __name__)

    def _prefetch_row(array: np.ndarray, index: int) -> None:
        """Nothing: a hint for compiled code only."""

    def _prefetch(array: np.ndarray, index: int) -> None:
        """Nothing: a hint for compiled code only."""

else:

    @intrinsic
    def _prefetch_row(typingctx, array, index):
        """Start loading array[index] (a row of a 2-D array) into cache, for writing. The
        accumulators are read in an order the CPU cannot guess (the chunks of a posting list),
        so asking PREFETCH postings ahead overlaps the cache misses."""
        if not (isinstance(array, types.Array) and array.ndim == 2 and isinstance(index, types.Integer)):
            return None
        return types.void(array, index), _prefetch_codegen(1)

    @intrinsic
    def _prefetch(typingctx, array, index):
        """Start loading array[index] (a 1-D array) into cache, for reading."""
        if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
            return None
        return types.void(array, index), _prefetch_codegen(0)


@njit(cache=True, nogil=True)
def hash_terms(data: np.ndarray) -> np.ndarray:
    """64-bit keys of the UTF-8 terms in `data` (separated by SEPARATOR): FNV-1a, then
    splitmix64's finaliser to spread FNV's weak low bits. Stable across processes,
    unlike hash(), so keys can be saved."""
    n_terms = 1
    for byte in data:
        n_terms += byte == SEPARATOR
    keys = np.empty(n_terms, np.uint64)
    h = _FNV_OFFSET
    term = 0
    for position in range(data.size + 1):
        if position < data.size and data[position] != SEPARATOR:
            h = (h ^ np.uint64(data[position])) * _FNV_PRIME
            continue
        h = (h ^ (h >> np.uint64(30))) * _SPLITMIX[0]
        h = (h ^ (h >> np.uint64(27))) * _SPLITMIX[1]
        keys[term] = h ^ (h >> np.uint64(31))
        term += 1
        h = _FNV_OFFSET
    return keys


@njit(cache=True, nogil=True)
def term_ids(data: np.ndarray, keys: np.ndarray, ids: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Ids of the terms in `data` (as in hash_terms) through the sorted vocabulary keys;
    -1 for a term the vocabulary lacks or no chunk holds any more.

    The keys are hashes, spread evenly: among a million keys, interpolation lands a median
    143 keys from a term and a second interpolation from there 7. Each step is taken for
    every term before the next, asking for the lines it will read first, so the terms'
    cache misses (megabytes of keys) overlap instead of following one another."""
    wanted = hash_terms(data)
    n = wanted.size
    result = np.full(n, -1, np.int64)
    size = keys.size
    if size == 0:
        return result
    first, last = np.float64(keys[0]), np.float64(keys[size - 1])
    spacing = max((last - first) / max(size - 1, 1), 1.0)
    at = np.empty(n, np.int64)
    for i in range(n):
        at[i] = min(max(np.int64((np.float64(wanted[i]) - first) / spacing), 0), size - 1)
        _prefetch(keys, at[i])
    for i in range(n):
        step = (np.float64(wanted[i]) - np.float64(keys[at[i]])) / spacing
        at[i] = min(max(at[i] + np.int64(step), 0), size - 1)
        _prefetch(keys, at[i])
    for i in range(n):
        found = _seek_near(keys, 0, size, at[i], wanted[i])
        at[i] = found if found < size and keys[found] == wanted[i] else -1
        if at[i] >= 0:
            _prefetch(ids, at[i])
    for i in range(n):
        if at[i] >= 0:
            at[i] = ids[at[i]]
            _prefetch(indptr, at[i])
    for i in range(n):
        term = at[i]
        if term >= 0 and indptr[term + 1] > indptr[term]:
            result[i] = term
    return result


@njit(cache=True, nogil=True)
def known_term_ids(data: np.ndarray, keys: np.ndarray, ids: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """`term_ids` without the -1s: the ids a query searches, in its order, repeats kept."""
    found = term_ids(data, keys, ids, indptr)
    return found[found >= 0]


@njit(cache=True, nogil=True)
def max_normalised_tf(indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, inverse_norm: np.ndarray) -> np.ndarray:
    """Each term's largest tf/norm over its postings: with its idf, the bound of its weight."""
    n_terms = indptr.size - 1
    result = np.zeros(n_terms, np.float64)
    for term in range(n_terms):
        best = 0.0
        for p in range(indptr[term], indptr[term + 1]):
            best = max(best, tf[p] * inverse_norm[indices[p]])
        result[term] = best
    return result


@njit(cache=True, nogil=True)
def _heap_push(values: np.ndarray, docs: np.ndarray, size: int, value: float, doc: int) -> int:
    """Keep the len(values) largest (value, doc) pairs pushed in a min-heap; returns the new size."""
    capacity = values.size
    if size < capacity:
        i = size
        size += 1
    elif value <= values[0]:
        return size
    else:
        i = 0  # replace the smallest, then sift it down
        while True:
            child = 2 * i + 1
            if child >= capacity:
                break
            if child + 1 < capacity and values[child + 1] < values[child]:
                child += 1
            if value <= values[child]:
                break
            values[i], docs[i] = values[child], docs[child]
            i = child
        values[i], docs[i] = value, doc
        return size
    while i > 0:  # a new entry: sift it up
        parent = (i - 1) // 2
        if values[parent] <= value:
            break
        values[i], docs[i] = values[parent], docs[parent]
        i = parent
    values[i], docs[i] = value, doc
    return size


@njit(cache=True, nogil=True)
def _best(work: np.ndarray, docs: np.ndarray, n: int, heap: np.ndarray, heap_docs: np.ndarray, sign: float) -> int:
    """Fill the heap with the len(heap) docs of docs[:n] with the largest sign × accumulator; returns how many."""
    size = 0
    for i in range(n):
        size = _heap_push(heap, heap_docs, size, sign * work[docs[i], 1], docs[i])
    return size


@njit(cache=True, nogil=True)
def _flip(bits: np.ndarray, doc: int) -> None:
    bits[doc >> 3] ^= np.uint8(1 << (doc & 7))


@njit(cache=True, nogil=True)
def _holds(docs: np.ndarray, n: int, doc: int) -> bool:
    for i in range(n):
        if docs[i] == doc:
            return True
    return False


@njit(cache=True, nogil=True)
def _gallop(indices: np.ndarray, lo: int, end: int, target: int) -> int:
    """The first position in indices[lo:end] (ascending) holding a value ≥ target, or end."""
    step = 1
    while lo + step < end and indices[lo + step] < target:
        step *= 2
    return _halve(indices, lo + step // 2 if step > 1 else lo, min(lo + step, end), target)


@njit(cache=True, nogil=True)
def _halve(values: np.ndarray, low: int, high: int, target: int) -> int:
    """Binary search: the first position in values[low:high] (ascending) holding a value ≥ target, or high."""
    while low < high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        else:
            high = middle
    return low


@njit(cache=True, nogil=True)
def _interpolated(lo: int, end: int, first: int, last: int, target: int) -> int:
    """Where interpolation puts `target` in an ascending values[lo:end] running from `first`
    to `last`, for first < target ≤ last."""
    return lo + np.int64((end - 1 - lo) * (np.float64(target - first) / np.float64(last - first)))


@njit(cache=True, nogil=True)
def _prefetch_seek(values: np.ndarray, tf: np.ndarray, lo: int, end: int, first: int, last: int, target: int) -> None:
    """Ask for the cache lines where `_seek(values, lo, end, target)` will land, in `values`
    and in the counts `tf` beside them (first and last: values[lo] and values[end - 1])."""
    if target <= first:
        at = lo
    elif target > last:
        at = end - 1
    else:
        at = _interpolated(lo, end, first, last, target)
    _prefetch(values, at)
    _prefetch(tf, at)


@njit(cache=True, nogil=True)
def _prefetch_seeks(values: np.ndarray, tf: np.ndarray, lo: int, end: int, targets: np.ndarray, n: int) -> None:
    """`_prefetch_seek` for each of targets[:n]. Searches in different lists do not depend
    on each other, but each waits for its own cache misses: the CPU cannot run ahead across
    the search's branches. Asking for every line first overlaps the misses of all of them.
    A list of a few cache lines is left alone: its first search brings it in."""
    if end - lo < SEEK_PREFETCH_FROM:
        return
    first, last = values[lo], values[end - 1]
    for x in range(n):
        _prefetch_seek(values, tf, lo, end, first, last, targets[x])


@njit(cache=True, nogil=True)
def _seek(values: np.ndarray, lo: int, end: int, target: int) -> int:
    """The first position in values[lo:end] (ascending) holding a value ≥ target, or end,
    as _gallop finds it, but galloping from where interpolation puts the target:
    chunk positions and vocabulary keys are spread evenly enough that the guess is a few
    entries off, so a search touches two or three cache lines instead of one per halving."""
    if lo >= end or values[lo] >= target:
        return lo
    last = values[end - 1]
    if last < target:
        return end
    return _seek_near(values, lo, end, _interpolated(lo, end, values[lo], last, target), target)


@njit(cache=True, nogil=True)
def _seek_near(values: np.ndarray, lo: int, end: int, guess: int, target: int) -> int:
    """`_seek` galloping from position `guess` in [lo, end), forward or back."""
    if guess <= lo or values[guess] < target:
        return _gallop(values, max(guess, lo), end, target)
    high = guess  # values[high] ≥ target: gallop back, then halve
    step = 1
    while high - step > lo and values[high - step] >= target:
        high -= step
        step *= 2
    return _halve(values, max(lo, high - step), high, target)


@njit(cache=True, nogil=True)
def _weight(tf: int, work: np.ndarray, doc: int, scale: float, saturation_b: float) -> float:
    """A posting's weight f - f(0): scale·c/(c + B) with c = tf/norm."""
    c = np.float64(tf) * work[doc, 0]
    return scale * c / (c + saturation_b)


@njit(cache=True, nogil=True)
def _score_leaders(
    starts: np.ndarray, ends: np.ndarray, indices: np.ndarray, tf: np.ndarray, work: np.ndarray,
    scales: np.ndarray, saturation_b: float, first: int,
    touched: np.ndarray, n_touched: int, scored: np.ndarray, scored_docs: np.ndarray, n_scored: int,
) -> int:
    """Fully score the chunks leading on partial scores (terms before `first` are in their
    accumulators, the rest are looked up) and keep the k best full scores in the `scored`
    heap; returns its new size. Its smallest is then a lower bound of the final k-th best
    score. A leader already in the heap is not scored again, so no chunk is in it twice.
    The leaders are looked up term by term in chunk order, each search starting where the
    last ended, so a long list is read in one direction."""
    leaders = np.empty(scored.size, np.float64)
    leader_docs = np.empty(scored.size, np.int32)
    n_leaders = _best(work, touched, n_touched, leaders, leader_docs, 1.0)
    new_docs = np.empty(n_leaders, np.int32)
    n_new = 0
    for doc in leader_docs[:n_leaders]:
        if not _holds(scored_docs, n_scored, doc):
            new_docs[n_new] = doc
            n_new += 1
    new_docs = np.sort(new_docs[:n_new])
    full = np.empty(n_new, np.float64)
    for x in range(n_new):
        full[x] = work[new_docs[x], 1]
    for j in range(first, scales.size):
        _prefetch_seeks(indices, tf, starts[j], ends[j], new_docs, n_new)
    for j in range(first, scales.size):
        end = ends[j]
        lo = starts[j]
        for x in range(n_new):
            doc = new_docs[x]
            lo = _seek(indices, lo, end, doc)
            if lo == end:
                break
            if indices[lo] == doc:
                full[x] += _weight(tf[lo], work, doc, scales[j], saturation_b)
    for x in range(n_new):
        n_scored = _heap_push(scored, scored_docs, n_scored, full[x], new_docs[x])
    return n_scored


@njit(cache=True, nogil=True)
def _order(survivors: np.ndarray, n: int, survivor_bits: np.ndarray) -> None:
    """Sort survivors[:n] (the chunks whose bits are set): by sorting when they are few, by a
    pass over the bits when they are many (a pass over 125 kB beats sorting 30k ints)."""
    if n * SORT_LIMIT < 8 * survivor_bits.size:
        survivors[:n].sort()
        return
    at = 0
    for byte in range(survivor_bits.size):
        bits = survivor_bits[byte]
        while bits:
            low = bits & -bits
            survivors[at] = 8 * byte + LOW_BIT[low]
            at += 1
            bits ^= low


@njit(cache=True, nogil=True)
def _holders(starts: np.ndarray, ends: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Sorted positions of the chunks in indices[starts[i]:ends[i]] for any i."""
    total = 0
    for i in range(starts.size):
        total += ends[i] - starts[i]
    found = np.empty(total, np.int32)
    at = 0
    for i in range(starts.size):
        size = ends[i] - starts[i]
        found[at:at + size] = indices[starts[i]:ends[i]]
        at += size
    return np.unique(found)


@njit(cache=True, nogil=True)
def _candidates(
    starts: np.ndarray,
    ends: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    scales: np.ndarray,
    bounds: np.ndarray,
    saturation_b: float,
    k: int,
    work: np.ndarray,
    touched: np.ndarray,
    survivor_bits: np.ndarray,
) -> np.ndarray:
    """Sorted positions of the chunks that may be in the top k; every weight is positive.

    The query's distinct terms come ordered by `bounds` (each term's largest possible weight
    × its count in the query) from highest; term i's postings searched are
    indices[starts[i]:ends[i]], and `scales` are idf·A·count, so a posting weighs
    scale·c/(c + saturation_b), c = tf/norm. `work` (per-thread scratch,
    one row per chunk) holds each chunk's 1/norm and its float32 accumulator side by side,
    so a posting costs one cache line; `touched` and `survivor_bits` (one bit per chunk,
    small enough to stay in cache while long lists are scanned for survivors) are scratch
    too. Accumulators and bits are zero on entry and are left so. An accumulator is nonzero
    once a term holds the chunk, and negated while the chunk survives the pruning.
    """
    m = scales.size
    rest = np.zeros(m + 1, np.float64)  # rest[i]: the most terms i.. can add to any chunk
    for i in range(m - 1, -1, -1):
        rest[i] = rest[i + 1] + bounds[i]
    keep = 1.0 - SLACK - 4.0 * (m + 2) * FLOAT32_ROUNDING
    heap = np.empty(k, np.float64)
    heap_docs = np.empty(k, np.int32)
    scored = np.empty(k, np.float64)
    scored_docs = np.empty(k, np.int32)
    n_scored = 0
    n_touched = 0
    theta = 0.0  # a lower bound of the final k-th best score
    i = 0
    while i < m:
        start, end = starts[i], ends[i]
        if n_touched >= k and 2 * (end - start) > n_touched:  # a long list: worth a better bound first
            n_scored = _score_leaders(
                starts, ends, indices, tf, work, scales, saturation_b, i,
                touched, n_touched, scored, scored_docs, n_scored,
            )
            if n_scored == k:
                theta = scored[0]
        if rest[i] < theta * keep:
            break  # a chunk none of the terms so far holds cannot reach the top k
        scale = scales[i]
        for p in range(start, end):
            if p + PREFETCH < end:
                _prefetch_row(work, indices[p + PREFETCH])
            d = indices[p]
            partial = work[d, 1]
            touched[n_touched] = d  # kept by a first touch only: no branch on a load that may miss
            n_touched += partial == 0.0
            work[d, 1] = partial + _weight(tf[p], work, d, scale, saturation_b)
        i += 1

    survivors = np.empty(n_touched, np.int32)
    n = 0
    for j in range(n_touched):
        if j + PREFETCH < n_touched:
            _prefetch_row(work, touched[j + PREFETCH])
        d = touched[j]
        partial = work[d, 1]
        if partial + rest[i] >= theta * keep:
            survivors[n] = d
            n += 1
            work[d, 1] = -partial
            _flip(survivor_bits, d)
        else:
            work[d, 1] = 0.0
    ordered = False
    for j in range(i, m):  # only after pruning stopped the first loop: the rest, for survivors only
        start, end = starts[j], ends[j]
        scale = scales[j]
        if end - start <= SCAN_RATIO * n:  # a short list: read it whole, skipping non-survivors
            for p in range(start, end):  # survivors' rows are in cache: a prefetch here costs more than it saves
                d = indices[p]
                if survivor_bits[d >> 3] & (1 << (d & 7)):
                    work[d, 1] -= _weight(tf[p], work, d, scale, saturation_b)
        else:  # a long one: look the survivors up in it
            if not ordered:
                _order(survivors, n, survivor_bits)
                ordered = True
            lo = start
            first_value, last_value = indices[start], indices[end - 1]
            for s in range(n):
                if s + PREFETCH < n:
                    _prefetch_row(work, survivors[s + PREFETCH])
                    _prefetch_seek(indices, tf, start, end, first_value, last_value, survivors[s + PREFETCH])
                d = survivors[s]
                lo = _seek(indices, lo, end, d)
                if lo == end:
                    break
                if indices[lo] == d:
                    work[d, 1] -= _weight(tf[lo], work, d, scale, saturation_b)
        if _best(work, survivors, n, heap, heap_docs, -1.0) == k:  # partial scores only grow: a bound too
            theta = max(theta, heap[0])
        kept = 0
        for s in range(n):
            d = survivors[s]
            if rest[j + 1] - work[d, 1] >= theta * keep:
                survivors[kept] = d
                kept += 1
            else:
                work[d, 1] = 0.0
                _flip(survivor_bits, d)
        n = kept
    # the survivors' accumulators are now their scores: keep the k best and ties
    size = _best(work, survivors, n, heap, heap_docs, -1.0)
    floor = heap[0] * keep if size == k else 0.0
    kept = 0
    for s in range(n):
        d = survivors[s]
        if -work[d, 1] >= floor:
            survivors[kept] = d
            kept += 1
        work[d, 1] = 0.0
        _flip(survivor_bits, d)
    survivors = survivors[:kept]
    if not ordered:
        survivors.sort()
    return survivors


@njit(cache=True, nogil=True)
def _exact_scores(
    positions: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    query_terms: np.ndarray,
    query_idf: np.ndarray,
    avgdl: float,
    k1: float,
    b: float,
    delta: float,
    variant: int,
) -> np.ndarray:
    """rank-bm25's get_scores at `positions` (ascending): query terms in query order (repeats
    included), each term's expression evaluated operation by operation as its Python code does."""
    counts = np.zeros((positions.size, query_terms.size), np.float64)
    for q in range(query_terms.size):
        _prefetch_seeks(indices, tf, indptr[query_terms[q]], indptr[query_terms[q] + 1], positions, positions.size)
    for q in range(query_terms.size):  # term by term, so each search starts where the last ended
        earlier = 0
        while query_terms[earlier] != query_terms[q]:
            earlier += 1
        if earlier < q:  # a repeated query term: its counts are known
            counts[:, q] = counts[:, earlier]
            continue
        start, end = indptr[query_terms[q]], indptr[query_terms[q] + 1]
        lo = start
        for i in range(positions.size):
            lo = _seek(indices, lo, end, positions[i])
            if lo == end:
                break
            if indices[lo] == positions[i]:
                counts[i, q] = tf[lo]
    scores = np.empty(positions.size, np.float64)
    for i in range(positions.size):
        norm = 1 - b + b * np.float64(doc_len[positions[i]]) / avgdl
        score = 0.0
        for q in range(query_terms.size):
            q_freq = counts[i, q]
            idf = query_idf[q]
            if variant == BM25L:
                ctd = q_freq / norm
                score += idf * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
            elif variant == LUCENE:
                score += idf * (q_freq / (q_freq + k1 * norm))
            else:
                score += idf * (q_freq * (k1 + 1) / (q_freq + k1 * norm))
        scores[i] = score
    return scores


@njit(cache=True, nogil=True)
def _idf(df: int, n_docs: int, variant: int, okapi_floor: float) -> float:
    """rank-bm25's idf in its Python operations (math.log, as CPython's math module)."""
    if variant == BM25L:
        return math.log(n_docs + 1.0) - math.log(df + 0.5)
    if variant == LUCENE:
        return math.log1p((n_docs - df + 0.5) / (df + 0.5))
    value = math.log(n_docs - df + 0.5) - math.log(df + 0.5)
    return okapi_floor if value < 0 else value


@njit(cache=True, nogil=True)
def plan(
    indptr: np.ndarray,
    max_ntf: np.ndarray,
    n_docs: int,
    query_terms: np.ndarray,
    params: tuple[int, float, float, float, float, float, float, bool],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A query's distinct terms in the order `candidates` reads them, with their scales and
    bounds (see `_candidates`), and the idf of each query term in query order.

    `params` is (variant, k1, b, delta, okapi floor, saturation A, saturation B, prune).
    """
    variant, _, _, _, okapi_floor, saturation_a, saturation_b, _ = params
    m = query_terms.size
    unique = np.empty(m, np.int64)
    counts = np.zeros(m, np.float64)
    slot = np.empty(m, np.int64)  # each query term's place in `unique`
    n_unique = 0
    for q in range(m):
        at = 0
        while at < n_unique and unique[at] != query_terms[q]:
            at += 1
        if at == n_unique:
            unique[at] = query_terms[q]
            n_unique += 1
        counts[at] += 1.0
        slot[q] = at
    for u in range(n_unique):  # each term's misses at once, not one after the other
        _prefetch(indptr, unique[u])
        _prefetch(max_ntf, unique[u])
    idf = np.empty(n_unique, np.float64)
    scales = np.empty(n_unique, np.float64)
    bounds = np.empty(n_unique, np.float64)
    for u in range(n_unique):
        t = unique[u]
        idf[u] = _idf(indptr[t + 1] - indptr[t], n_docs, variant, okapi_floor)
        scales[u] = idf[u] * saturation_a * counts[u]
        bounds[u] = scales[u] * max_ntf[t] / (max_ntf[t] + saturation_b)
    order = np.arange(n_unique)
    for i in range(1, n_unique):  # insertion sort by bound, highest first, stable
        j = i
        while j > 0 and bounds[order[j - 1]] < bounds[order[j]]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    query_idf = np.empty(m, np.float64)
    for q in range(m):
        query_idf[q] = idf[slot[q]]
    return unique[:n_unique][order], scales[order], bounds[order], query_idf


@njit(cache=True, nogil=True)
def _prefetch_ranges(indptr: np.ndarray, indices: np.ndarray, terms: np.ndarray, first_doc: int, end_doc: int) -> None:
    """Ask for the lines the searches for the range [first_doc, end_doc) in the terms' lists
    read: both ends of each list first, then where the range's bounds fall."""
    for t in terms:
        _prefetch(indices, indptr[t])
        _prefetch(indices, indptr[t + 1] - 1)
    for t in terms:
        lo, end = indptr[t], indptr[t + 1]
        if end - lo >= SEEK_PREFETCH_FROM:
            first, last = indices[lo], indices[end - 1]
            for bound in (first_doc, end_doc):
                if first < bound <= last:
                    _prefetch(indices, _interpolated(lo, end, first, last, bound))


@njit(cache=True, nogil=True)
def candidates(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    terms: np.ndarray,
    scales: np.ndarray,
    bounds: np.ndarray,
    k: int,
    first_doc: int,
    end_doc: int,
    params: tuple[int, float, float, float, float, float, float, bool],
    work: np.ndarray,
    touched: np.ndarray,
    survivor_bits: np.ndarray,
) -> np.ndarray:
    """Sorted positions in [first_doc, end_doc) of the chunks that may be among that range's
    k best, for a query planned by `plan`. Without `prune`, or with a weight of zero (weights
    that are not all positive), every chunk of the range holding a query term.

    The k-th best of a range is at most the k-th best of all, so the union of the ranges'
    candidates holds every chunk of the top k: ranges can be searched in parallel.
    """
    _prefetch_ranges(indptr, indices, terms, first_doc, end_doc)
    starts = np.empty(terms.size, np.int64)
    ends = np.empty(terms.size, np.int64)
    for i in range(terms.size):
        starts[i] = _seek(indices, indptr[terms[i]], indptr[terms[i] + 1], first_doc)
        ends[i] = _seek(indices, starts[i], indptr[terms[i] + 1], end_doc)
    if params[7] and scales.min() > 0:
        return _candidates(starts, ends, indices, tf, scales, bounds, params[6], k, work, touched, survivor_bits)
    return _holders(starts, ends, indices)


@njit(cache=True, nogil=True)
def best(
    found: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    query_terms: np.ndarray,
    query_idf: np.ndarray,
    k: int,
    avgdl: float,
    params: tuple[int, float, float, float, float, float, float, bool],
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of the candidates `found` (ascending): positions and rank-bm25 scores,
    ties broken by the lower position."""
    variant, k1, b, delta = params[0], params[1], params[2], params[3]
    exact = _exact_scores(found, indptr, indices, tf, doc_len, query_terms, query_idf, avgdl, k1, b, delta, variant)
    return _top(found, exact, k)


@njit(cache=True, nogil=True)
def _top(found: np.ndarray, exact: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of the chunks `found` (ascending) by their scores `exact`, ties broken by
    the lower position."""
    n_best = min(k, found.size)
    positions = np.empty(n_best, np.int64)
    scores = np.empty(n_best, np.float64)
    taken = np.zeros(found.size, np.bool_)
    for r in range(n_best):  # found is ascending: the first of equal scores is the lower position
        best_at = -1
        for i in range(found.size):
            if not taken[i] and (best_at < 0 or exact[i] > exact[best_at]):
                best_at = i
        taken[best_at] = True
        positions[r] = found[best_at]
        scores[r] = exact[best_at]
    return positions, scores


@njit(cache=True, nogil=True)
def search(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    max_ntf: np.ndarray,
    query_terms: np.ndarray,
    k: int,
    avgdl: float,
    params: tuple[int, float, float, float, float, float, float, bool],
    work: np.ndarray,
    touched: np.ndarray,
    survivor_bits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best chunks (positions, rank-bm25 scores; ties: lower position first) for the
    query's term ids in query order, repeats included, all known to the index, in one call:
    `plan`, `candidates` over every chunk, `best`. `work`, `touched` and `survivor_bits` are
    scratch as in `_candidates`."""
    terms, scales, bounds, query_idf = plan(indptr, max_ntf, doc_len.size, query_terms, params)
    found = candidates(indptr, indices, tf, terms, scales, bounds, k, 0, doc_len.size, params, work, touched, survivor_bits)
    return best(found, indptr, indices, tf, doc_len, query_terms, query_idf, k, avgdl, params)


@njit(cache=True, nogil=True, parallel=True)
def search_halves(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    max_ntf: np.ndarray,
    query_terms: np.ndarray,
    k: int,
    avgdl: float,
    params: tuple[int, float, float, float, float, float, float, bool],
    scratches: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """`search` with the candidates of each half of the chunks found and rescored on a thread
    of its own (numba's threading layer), each half with its own scratch. The same hits,
    sooner on a large index. The layer's threads wait for work spinning a little before they
    sleep, so handing a half over costs a few µs rather than the ~40 µs of waking a parked
    thread. A half rescores its own candidates while its posting lists are still in its
    core's cache: a chunk's exact score does not depend on the other half."""
    n_docs = doc_len.size
    variant, k1, b, delta = params[0], params[1], params[2], params[3]
    terms, scales, bounds, query_idf = plan(indptr, max_ntf, n_docs, query_terms, params)
    middle = n_docs // 2
    (lower_work, lower_touched, lower_bits), (upper_work, upper_touched, upper_bits) = scratches
    found = np.empty(n_docs, np.int32)  # each half's candidates at the start of its own range
    exact = np.empty(n_docs, np.float64)  # and their scores beside them
    sizes = np.zeros(2, np.int64)
    for half in prange(2):  # a parallel loop takes arrays, not tuples of them: one branch per half
        if half == 0:
            part = candidates(
                indptr, indices, tf, terms, scales, bounds, k, 0, middle, params, lower_work, lower_touched, lower_bits
            )
        else:
            part = candidates(
                indptr, indices, tf, terms, scales, bounds, k, middle, n_docs, params, upper_work, upper_touched, upper_bits
            )
        first = half * middle
        found[first:first + part.size] = part
        exact[first:first + part.size] = _exact_scores(
            part, indptr, indices, tf, doc_len, query_terms, query_idf, avgdl, k1, b, delta, variant
        )
        sizes[half] = part.size
    lower, upper = slice(0, sizes[0]), slice(middle, middle + sizes[1])
    return _top(
        np.concatenate((found[lower], found[upper])), np.concatenate((exact[lower], exact[upper])), k
    )


def scratch(inverse_norm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A thread's scratch for `search` and `candidates`: `work` (each chunk's 1/norm beside
    a zero accumulator), `touched` and `survivor_bits`."""
    n_docs = inverse_norm.size
    work = np.zeros((n_docs, 2), np.float32)
    work[:, 0] = inverse_norm
    touched = np.empty(n_docs + 1, np.int32)  # + 1: a posting is written before it is known to be new
    return work, touched, np.zeros((n_docs + 7) // 8, np.uint8)


def _tiny_query() -> tuple:
    """`search`'s arguments for a two-chunk index, typed as the index's (read-only arrays)."""

    def read_only(values: np.ndarray) -> np.ndarray:
        values.flags.writeable = False
        return values

    indptr = read_only(np.array([0, 1, 2], np.int64))
    indices = read_only(np.array([0, 1], np.int32))
    tf = read_only(np.array([1, 2], np.uint8))
    keys = np.sort(hash_terms(np.frombuffer(b"a\xffb", np.uint8)))
    found = term_ids(np.frombuffer(b"b\xffa", np.uint8), keys, np.array([0, 1], np.int32), indptr)
    params = (BM25L, 1.5, 0.75, 0.5, 0.0, 1.0, 1.0, True)
    return indptr, indices, tf, np.ones(2, np.int32), np.ones(2), found, 1, 1.0, params


# Chunk vectors are float16, which numba cannot load. A float16's sign moved to bit 31 and
# its other 15 bits moved up by 13 are a float32 worth the same value times 2**-112, exactly
# (subnormal halves included), so a row is scored against the query times 2**112 with no
# conversion call: each product is the float32 product of the true values, as numpy's
# astype(float32) @ query computes it; only the order of the sum differs (reassociated to
# run 8 or 16 lanes at once), moving a cosine by about 1e-7.
HALF_TO_SINGLE_SCALE = 2.0**112


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})
def dense_rows(halves: np.ndarray, scaled_query: np.ndarray, out: np.ndarray, first: int, end: int) -> None:
    """out[row] = the dot product of each row in [first, end) with the query; `halves` holds
    the rows' float16 bit patterns (uint16), `scaled_query` the query times HALF_TO_SINGLE_SCALE."""
    dim = halves.shape[1]
    bits = np.empty(dim, np.uint32)
    values = bits.view(np.float32)
    for row in range(first, end):
        for j in range(dim):
            half = np.uint32(halves[row, j])
            bits[j] = ((half & np.uint32(0x8000)) << np.uint32(16)) | ((half & np.uint32(0x7FFF)) << np.uint32(13))
        total = np.float32(0.0)
        for j in range(dim):
            total += values[j] * scaled_query[j]
        out[row] = total


@njit(cache=True, nogil=True, parallel=True)
def dense_halves(halves: np.ndarray, scaled_query: np.ndarray, out: np.ndarray) -> None:
    """`dense_rows` over all rows, each half on its own thread (see `halves_at_once`)."""
    middle = halves.shape[0] // 2
    for half in prange(2):
        if half == 0:
            dense_rows(halves, scaled_query, out, 0, middle)
        else:
            dense_rows(halves, scaled_query, out, middle, halves.shape[0])


def dense_scores(halves: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Every row's dot product with the float32 query; `halves`: read-only float16 rows viewed as uint16."""
    out = np.empty(halves.shape[0], np.float32)
    scaled = np.asarray(query, np.float32) * np.float32(HALF_TO_SINGLE_SCALE)
    if halves_at_once():
        dense_halves(halves, scaled, out)
    else:
        dense_rows(halves, scaled, out, 0, halves.shape[0])
    return out


def _tiny_vectors() -> np.ndarray:
    """Two float16 rows as uint16, read-only and C-ordered like a loaded vector matrix."""
    rows = np.ones((2, 4), np.float16).view(np.uint16)
    rows.flags.writeable = False
    return rows


@functools.cache
def halves_at_once() -> bool:
    """Whether `search_halves` runs: numba loads a thread-safe threading layer (OpenMP or
    TBB). Without one, a large index is searched in one range on the calling thread."""
    try:
        search_halves(*_tiny_query(), (scratch(np.ones(2)), scratch(np.ones(2))))
    except ValueError as error:  # numba: "No threading layer could be loaded"
        log.warning("searching large indexes on one thread: %s", str(error).splitlines()[0])
        return False
    return True


def warm_up() -> None:
    """Load (or, on a new install, compile) the query kernels with the index's argument types."""
    search(*_tiny_query(), *scratch(np.ones(2)))
    halves_at_once()
    dense_scores(_tiny_vectors(), np.ones(4, np.float32))
