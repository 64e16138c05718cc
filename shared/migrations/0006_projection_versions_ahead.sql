-- Versions a projection applied ahead of their turn: an order-free event (an erasure destroys
-- keys, whatever came before it) applies at once even across a version gap. The gate counts these
-- versions as present when the gap fills, and forgets them once the stream's version passes them.
create table projection_versions_ahead (
    projection text    not null,
    stream_id  uuid    not null,
    version    integer not null,
    primary key (projection, stream_id, version)
);
