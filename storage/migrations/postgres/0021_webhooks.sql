-- Webhooks: a user's subscriptions to their own events, delivered by
-- `webhook.deliver` jobs. `events` is a JSON array of kind names (or "*");
-- the secret is kept as given, since signing a delivery needs it.
CREATE TABLE webhooks (
    id         uuid        PRIMARY KEY,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    uuid        NOT NULL,
    url        text        NOT NULL,
    events     jsonb       NOT NULL,
    secret     text        NOT NULL,
    active     boolean     NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint      NOT NULL
);
CREATE INDEX webhooks_by_owner ON webhooks (user_id, seq);
