-- Funding's DeliveryUnfunded: what no sponsorship could pay of a delivery, so that reporting's
-- delivered_rp = drawn_rp + unfunded_rp. Owned by the funding projection (aid's deliveries_view
-- is rebuilt from aid's stream alone).
create table unfunded_deliveries_view (
    delivery_id    uuid primary key,
    plan_id        uuid,
    family_id      uuid,
    kelurahan_code text,
    delivered_on   date,
    value_rp       bigint,
    unfunded_rp    bigint
);
