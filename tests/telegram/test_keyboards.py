"""callback_data: at most 64 bytes, round-trips, and anything forged decodes to None."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.keyboards import FeedbackButton, MoreButton, SourceButton, answer_keyboard, decode, encode


def test_round_trip_and_size():
    for button in (
        SourceButton(2**62, "f" * 16),
        MoreButton(2**62, 10),
        FeedbackButton(2**62, 1),
        FeedbackButton(7, -1),
    ):
        data = encode(button)
        assert len(data.encode()) <= 64
        assert decode(data) == button


@given(st.text(max_size=80))
def test_forged_data_never_crashes(data):
    button = decode(data)
    assert button is None or encode(button) == data


def test_known_forgeries():
    for data in ("", "s:0:abc", "s:1:XYZ", "m:1:0", "m:1:11", "f:1:*", "f:-1:+", "x" * 65, "s:1:abcdef:extra", None):
        assert decode(data) is None


def test_keyboard_buttons_fit():
    from retrieval.answer import Passage

    passages = [Passage(i, 10**15 + i, "a" * 40, "c", "t", "h", "x", 0, 1, 1.0, (), True) for i in range(1, 5)]
    keyboard = answer_keyboard(10**15, passages, has_more=True)
    datas = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert len(datas) == 3 + 3  # three 원문 buttons at most, then 더 보기 👍 👎
    assert all(len(d.encode()) <= 64 for d in datas)
    assert decode(datas[0]) == SourceButton(10**15 + 1, "a" * 16)
