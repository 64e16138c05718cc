"""Root keys carry a key id: what a root made opens with that root wherever it sits in the keyring,
new things are made under the current root only, blobs from before key ids still open, and the
secret checks cover the roots being rotated out (deploy/README.md, "Rotating a data key")."""

from __future__ import annotations

import base64
import os
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.registry.lookup_hashes import LookupHash, LookupKeyNotPinned, lookup_key
from shared.crypto import (
    LEGACY_WRAPPED_BYTES,
    NONCE_BYTES,
    WRAPPED_BYTES,
    DerivedKeyCipher,
    Keyring,
    UnknownKeyId,
    WrappedKeyCipher,
    derive_key,
    key_id,
)
from shared.secrets import WeakSecret, check_serving_secrets
from shared.settings import Settings

OLD, NEW, OTHER = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
PURPOSE = b"test-wrapping"


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def wrapping(root: bytes | Keyring) -> WrappedKeyCipher:
    return WrappedKeyCipher(root, PURPOSE, "keys")


def legacy_wrap(root: bytes, stream, key: bytes) -> bytes:  # type: ignore[no-untyped-def]
    """How a key was wrapped before key ids (the format in main before this change)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(derive_key(root, PURPOSE)).encrypt(nonce, key, stream.bytes)


def test_the_key_id_names_the_root_without_revealing_it() -> None:
    assert key_id(OLD) == key_id(OLD) != key_id(NEW)
    assert len(key_id(OLD)) == 8
    assert key_id(OLD) not in OLD and key_id(OLD) != OLD[:8]


def test_a_wrapped_key_records_its_root_and_opens_with_it_as_a_previous_root() -> None:
    stream, key = uuid4(), AESGCM.generate_key(bit_length=256)
    wrapped = wrapping(OLD).wrap(stream, key)
    assert len(wrapped) == WRAPPED_BYTES and wrapped[1:9] == key_id(OLD)
    rotated = wrapping(Keyring(NEW, [OLD]))
    assert rotated.unwrap(stream, wrapped) == key
    rewrapped = rotated.wrap(stream, key)
    assert rewrapped[1:9] == key_id(NEW)  # new wrappings are under the current root only
    assert wrapping(NEW).unwrap(stream, rewrapped) == key  # the old root is no longer needed


def test_a_key_wrapped_under_a_root_no_longer_given_is_refused_naming_its_id() -> None:
    stream = uuid4()
    wrapped = wrapping(OLD).wrap(stream, bytes(32))
    with pytest.raises(UnknownKeyId, match=key_id(OLD).hex()):
        wrapping(Keyring(NEW, [OTHER])).unwrap(stream, wrapped)


def test_the_key_id_cannot_be_swapped_nor_the_blob_moved_to_another_stream() -> None:
    stream = uuid4()
    ring = wrapping(Keyring(NEW, [OLD]))
    wrapped = wrapping(OLD).wrap(stream, bytes(32))
    swapped = wrapped[:1] + key_id(NEW) + wrapped[9:]
    with pytest.raises(InvalidTag):
        ring.unwrap(stream, swapped)
    with pytest.raises(InvalidTag):
        ring.unwrap(uuid4(), wrapped)


def test_a_legacy_wrapped_key_is_told_apart_by_its_length_and_opens_under_whichever_root_made_it() -> None:
    stream, key = uuid4(), AESGCM.generate_key(bit_length=256)
    legacy = legacy_wrap(OLD, stream, key)
    assert len(legacy) == LEGACY_WRAPPED_BYTES != WRAPPED_BYTES
    assert wrapping(OLD).unwrap(stream, legacy) == key
    assert wrapping(Keyring(NEW, [OTHER, OLD])).unwrap(stream, legacy) == key
    with pytest.raises(InvalidTag):
        wrapping(Keyring(NEW, [OTHER])).unwrap(stream, legacy)


def test_derived_key_blobs_carry_the_id_and_legacy_ones_still_open() -> None:
    stream = uuid4()
    old = DerivedKeyCipher(OLD, b"test-private").stream(stream)
    sealed = old.seal({"note": "kunjungan"})
    legacy_key = derive_key(OLD, b"test-private")
    nonce = os.urandom(NONCE_BYTES)
    legacy = nonce + AESGCM(legacy_key).encrypt(nonce, b'{"note":"lama"}', stream.bytes)

    rotated = DerivedKeyCipher(Keyring(NEW, [OLD]), b"test-private").stream(stream)
    assert rotated.open(sealed) == {"note": "kunjungan"}
    assert rotated.open(legacy) == {"note": "lama"}
    assert not rotated.is_current(sealed) and not rotated.is_current(legacy)
    resealed = rotated.seal(rotated.open(sealed))
    assert rotated.is_current(resealed) and resealed[1:9] == key_id(NEW)
    assert DerivedKeyCipher(NEW, b"test-private").stream(stream).open(resealed) == {"note": "kunjungan"}
    with pytest.raises(InvalidTag):
        DerivedKeyCipher(NEW, b"test-private").stream(stream).open(sealed)


def test_a_legacy_derived_blob_whose_nonce_looks_like_a_header_still_opens() -> None:
    stream = uuid4()
    key = derive_key(OLD, b"test-private")
    nonce = bytes([1]) + key_id(OLD) + os.urandom(NONCE_BYTES - 9)  # as unlikely as it gets: 2^-72
    legacy = nonce + AESGCM(key).encrypt(nonce, b'{"a":1}', stream.bytes)
    assert DerivedKeyCipher(OLD, b"test-private").stream(stream).open(legacy) == {"a": 1}


def test_settings_read_previous_roots_comma_separated() -> None:
    settings = Settings(data_key=b64(NEW), data_keys_previous=f"{b64(OLD)}, {b64(OTHER)},")  # type: ignore[arg-type]
    ring = settings.data_keyring()
    assert ring.current_id == key_id(NEW)
    assert list(ring.roots) == [key_id(NEW), key_id(OLD), key_id(OTHER)]


def test_the_lookup_key_stays_the_same_across_a_rotation_once_pinned() -> None:
    before = Settings(data_key=b64(OLD))  # type: ignore[arg-type]
    pinned = b64(lookup_key(before))
    during = Settings(data_key=b64(NEW), data_keys_previous=b64(OLD), lookup_key=pinned)  # type: ignore[arg-type]
    after = Settings(data_key=b64(NEW), lookup_key=pinned)  # type: ignore[arg-type]
    digest = LookupHash(lookup_key(before))("kk", "3375010101010001")
    assert LookupHash(lookup_key(during))("kk", "3375010101010001") == digest
    assert LookupHash(lookup_key(after))("kk", "3375010101010001") == digest


def test_a_rotation_without_a_pinned_lookup_key_is_refused() -> None:
    with pytest.raises(LookupKeyNotPinned, match="GENTING_LOOKUP_KEY"):
        lookup_key(Settings(data_key=b64(NEW), data_keys_previous=b64(OLD)))  # type: ignore[arg-type]


STRONG = "q" * 20 + "Zr81kLmN0pQ7sT2x"
GOOD = {
    "GENTING_DATABASE_URL": f"postgresql://genting_aid:{STRONG}@db:5432/genting_aid",
    "GENTING_NATS_URL": f"nats://aid:{STRONG}@nats:4222",
    "GENTING_JWKS_URL": "https://sso.pekalongankota.go.id/certs",
    "GENTING_DATA_KEY": b64(bytes(range(100, 132))),
}


def test_previous_roots_and_the_lookup_key_pass_the_secret_checks_when_strong() -> None:
    check_serving_secrets(
        {**GOOD, "GENTING_DATA_KEYS_PREVIOUS": f"{b64(bytes(range(50, 82)))}", "GENTING_LOOKUP_KEY": b64(OTHER)}
    )


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("GENTING_DATA_KEYS_PREVIOUS", f"{b64(bytes(range(50, 82)))},{b64(b'short')}", "GENTING_DATA_KEYS_PREVIOUS[1]"),
        ("GENTING_DATA_KEYS_PREVIOUS", "CHANGE-ME-old-root", "GENTING_DATA_KEYS_PREVIOUS[0]"),
        ("GENTING_DATA_KEYS_PREVIOUS", b64(bytes(range(32))), "GENTING_DATA_KEYS_PREVIOUS[0]"),  # the test key
        ("GENTING_LOOKUP_KEY", "change-me", "GENTING_LOOKUP_KEY"),
        ("GENTING_LOOKUP_KEY", b64(bytes(16)), "GENTING_LOOKUP_KEY"),
    ],
)
def test_weak_previous_roots_and_lookup_keys_are_refused(setting: str, value: str, named: str) -> None:
    with pytest.raises(WeakSecret) as caught:
        check_serving_secrets({**GOOD, setting: value})
    assert caught.value.setting == named
