-- Dunning: overdue invoices, their reminders, fees and interest, disputes (a dunning stop)
-- and the hand-off to debt collection; the reference rate of renteloven § 5 as dated data.

CREATE TABLE dunning (
    invoice_id      uuid PRIMARY KEY REFERENCES invoice,
    account_id      text NOT NULL REFERENCES billing_account,
    stage           integer NOT NULL DEFAULT 0 CHECK (stage >= 0),
    overdue_on      date NOT NULL,
    last_step_on    date NOT NULL,
    interest_from   date NOT NULL,
    disputed        boolean NOT NULL DEFAULT false,
    dispute_reason  text,
    handed_off_on   date
);
CREATE INDEX dunning_open ON dunning (invoice_id) WHERE handed_off_on IS NULL;

CREATE TABLE reminder (
    invoice_id uuid NOT NULL REFERENCES invoice,
    reminder   integer NOT NULL CHECK (reminder > 0),
    sent_on    date NOT NULL,
    fee        numeric(14, 2) NOT NULL CHECK (fee >= 0 AND fee <= 100),
    interest   numeric(14, 2) NOT NULL CHECK (interest >= 0),
    outstanding numeric(14, 2) NOT NULL,
    PRIMARY KEY (invoice_id, reminder)
);

-- Danmarks Nationalbank's lending rate ("referencesats") from a day on (1 January, 1 July).
-- Operators keep it current (PUT /api/dunning/reference-rates/{valid_from}).
CREATE TABLE reference_rate (
    valid_from date PRIMARY KEY,
    rate       numeric(8, 6) NOT NULL CHECK (rate > -1 AND rate < 1)
);
INSERT INTO reference_rate (valid_from, rate) VALUES ('2024-01-01', 0.0375);
