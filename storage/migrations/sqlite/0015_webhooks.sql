-- Webhooks: a user's subscriptions to their own events, delivered by
-- `webhook.deliver` jobs. `events` is a JSON array of kind names (or "*");
-- the secret is kept as given, since signing a delivery needs it.
CREATE TABLE webhooks (
    seq        INTEGER PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,
    user_id    BLOB    NOT NULL,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_by_owner ON webhooks (user_id, seq);
