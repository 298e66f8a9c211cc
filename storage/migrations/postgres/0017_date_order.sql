-- How quick-add reads a numeric date such as 3/4: month/day (the default,
-- as before this column) or day/month. Core's DateOrder names the values.
ALTER TABLE settings ADD COLUMN date_order text NOT NULL DEFAULT 'month_day'
    CONSTRAINT settings_date_order_check CHECK (date_order IN ('month_day', 'day_month'));
