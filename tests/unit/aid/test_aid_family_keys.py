"""The pure part of aid's per-family keys (services/aid/family_keys.py): what a stream of a family
with no key is sealed and opened with. After the erasure nothing ever gets a key again."""

from __future__ import annotations

import itertools

import pytest

from services.aid.family_keys import without_family_key


@pytest.mark.parametrize(("create", "sealed_before"), list(itertools.product([True, False], repeat=2)))
def test_an_erased_familys_streams_stay_closed_whatever_is_asked(create: bool, sealed_before: bool) -> None:
    assert without_family_key(erased=True, create=create, sealed_before=sealed_before) == "closed"


def test_a_stream_sealed_before_family_keys_opens_with_the_old_service_wide_key() -> None:
    assert without_family_key(erased=False, create=False, sealed_before=True) == "legacy"


@pytest.mark.parametrize(("create", "sealed_before"), [(True, False), (False, False), (True, True)])
def test_otherwise_the_family_gets_its_key_now(create: bool, sealed_before: bool) -> None:
    assert without_family_key(erased=False, create=create, sealed_before=sealed_before) == "new"
