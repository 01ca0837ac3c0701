"""The loader only ever raises PolicyError (with positions), whatever the document."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosignatory.core.errors import PolicyError
from cosignatory.core.policy import load_policy

KEYS = [
    "cosignatory",
    "name",
    "settings",
    "people",
    "actions",
    "rules",
    "roles",
    "id",
    "applies_to",
    "when",
    "require",
    "role",
    "count",
    "veto",
    "proposers",
    "params",
    "type",
    "required",
    "enum",
    "minimum",
    "maximum",
    "pattern",
    "ttl",
    "execution_window",
    "reject_after_denials",
    "kim",
    "pak",
    "move",
    "*",
    "commander",
    "1",
    "",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(KEYS),
    st.text(max_size=12),
    st.sampled_from(
        ["params.amount > 1000", "params.x >", "'a'.startsWith(", "24h", "0s", "[a-", "true"]
    ),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), inner, max_size=6),
    ),
    max_leaves=40,
)


def _dump(value: object, indent: int = 0) -> str:
    import json

    # JSON is YAML 1.2: a cheap way to serialize arbitrary trees as flow YAML.
    return json.dumps(value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS[:8]), documents, max_size=8))
def test_generated_documents_raise_only_policy_error(doc):
    text = _dump(doc)
    try:
        load_policy(text, filename="gen.yaml")
    except PolicyError as e:
        assert e.issues
        for issue in e.issues:
            assert issue.line >= 1 and issue.col >= 1 and issue.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_policy_error(text):
    try:
        load_policy(text, filename="gen.yaml")
    except PolicyError as e:
        assert e.issues


VALID = """cosignatory: 1
name: t
people: {kim: {roles: [commander]}, pak: {roles: [political_officer]}}
actions: {move: {params: {amount: {type: integer, required: true}}}}
rules:
  - {id: r, applies_to: move, when: params.amount > 10, proposers: [commander], require: [{role: political_officer}], veto: [political_officer]}
"""


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.text(min_size=0, max_size=3))
def test_mutated_valid_policy_raises_only_policy_error(pos, insert):
    text = VALID[:pos] + insert + VALID[pos + 1 :]
    try:
        load_policy(text, filename="gen.yaml")
    except PolicyError as e:
        assert e.issues
