"""Stored payloads are RFC 8785 bytes: the `json.dumps` fast path never differs from the
reference `rfc8785` serializer, and falls back to it whenever it could."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosignatory.core.canonical import canonical_json, canonical_text

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=12),
    st.text(  # around the surrogate block: the BMP's end and the first astral planes
        alphabet=st.characters(
            min_codepoint=0xD000, max_codepoint=0x1F000, exclude_categories=("Cs",)
        ),
        max_size=6,
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.dictionaries(
            st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_path_equals_the_reference(value: object) -> None:
    assert canonical_text(value).encode("utf-8") == canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [True, None, 'x"y\\z']},
        {"é": "ü", "\U0001f600": 1, "\ufb01": 2},  # non-ASCII keys: UTF-16 order
        {"tab": "a\tb\nc\x01\x7f"},
        {"big": 2**53 - 1, "neg": -(2**53) + 1},
    ],
)
def test_known_tricky_values(value: object) -> None:
    assert canonical_text(value).encode("utf-8") == canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {"n": 2**53},
        {"f": 1.5},
        {1: "int key"},
        ("tuple",),
        "lone \ud800 surrogate",
        {"k\udc00": 1},
        [1.0, -0.0, 1e21],
    ],
)
def test_values_outside_the_fast_path_behave_like_the_reference(value: object) -> None:
    _same_as_reference(value)


# Everything JSON-ish, including what the fast path must refuse: floats, integers beyond
# the safe range, lone surrogates (in values and keys) and keys beyond the BMP.
anything = st.recursive(
    st.one_of(
        scalars,
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(),
        st.text(alphabet=st.characters(codec=None, categories=None), max_size=6),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(alphabet=st.characters(codec=None, categories=None), max_size=4),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_fast_path_refuses_what_it_cannot_write(value: object) -> None:
    _same_as_reference(value)


def _same_as_reference(value: object) -> None:
    try:
        expected: bytes | type[Exception] = canonical_json(value)
    except Exception as e:  # whatever the reference raises, the fast path must raise too
        expected = type(e)
    if isinstance(expected, bytes):
        assert canonical_text(value).encode("utf-8") == expected
    else:
        with pytest.raises(expected):
            canonical_text(value)
