-- The proof photos of deliveries: the bytes are in the deployment's object store
-- (services/aid/photo_store.py), under photo_id; here only which delivery (and so which family and
-- kelurahan) each belongs to, for who may fetch it and for erasing the family's photos.
create table delivery_photos (
    photo_id       uuid primary key,
    delivery_id    uuid        not null,
    family_id      uuid        not null,
    kelurahan_code text        not null,
    content_type   text        not null,
    size_bytes     integer     not null,
    -- sha256 of the bytes: a retried upload (same Idempotency-Key) with other bytes is refused.
    sha256         text        not null,
    uploaded_by    text        not null,
    uploaded_at    timestamptz not null default now()
);
create index delivery_photos_delivery on delivery_photos (delivery_id);
create index delivery_photos_family on delivery_photos (family_id);
