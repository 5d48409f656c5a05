-- Invoicing: billing accounts, what settlement settled, invoices and credit notes with
-- gap-free numbers, the prepayments of aconto payers and the accounts-receivable ledger.

-- One billing account per payer (the customer, or a separate payer the contract names).
-- The party's name, CPR/CVR, e-mail and postal address stay sealed with the PII key, opened
-- only to render or send a bill; account_number is the payer's number on bills and in
-- Betalingsservice (kundenummer), drawn from a sequence: a gap there harms no one.
CREATE TABLE billing_account (
    account_id      text PRIMARY KEY,
    account_number  bigint GENERATED ALWAYS AS IDENTITY (START WITH 100001) UNIQUE,
    contact_type    text NOT NULL CHECK (contact_type IN ('private', 'business')),
    cpr_cvr_masked  text NOT NULL,
    party_sealed    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The contracts as the portfolio last described them: who pays for a metering point from
-- when, billed how. account_id has no foreign key: portfolio.contract.changed and
-- portfolio.customer.activated travel on different topics and may arrive in either order.
CREATE TABLE contract (
    contract_id       text PRIMARY KEY,
    gsrn              text NOT NULL CHECK (gsrn ~ '^57[0-9]{16}$'),
    customer_id       text NOT NULL,
    account_id        text NOT NULL,
    product_id        text NOT NULL,
    product_version   integer NOT NULL,
    start_date        date NOT NULL,
    end_date          date CHECK (end_date IS NULL OR end_date > start_date),
    billing_frequency text NOT NULL CHECK (billing_frequency IN ('monthly', 'quarterly')),
    payment_model     text NOT NULL CHECK (payment_model IN ('aconto', 'arrears')),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contract_by_gsrn ON contract (gsrn, customer_id, start_date);

-- Invoices and credit notes. number/series/year/seq are set by the issuing transaction from
-- number_counter (locked for update), so they are gap-free and unique per series and year.
CREATE TABLE invoice (
    invoice_id          uuid PRIMARY KEY,
    account_id          text NOT NULL REFERENCES billing_account,
    kind                text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    series              text NOT NULL,
    year                integer NOT NULL,
    seq                 integer NOT NULL CHECK (seq > 0),
    number              text NOT NULL UNIQUE,
    status              text NOT NULL
                        CHECK (status IN ('issued', 'partly_paid', 'paid', 'credited')),
    cycle               text,
    period_start        date NOT NULL,
    period_end          date NOT NULL CHECK (period_end > period_start),
    issue_date          date NOT NULL,
    due_date            date NOT NULL CHECK (due_date >= issue_date),
    fi_payment_id       text UNIQUE CHECK (fi_payment_id ~ '^[0-9]{15}$'),
    subtotal            numeric(14, 2) NOT NULL,
    vat                 numeric(14, 2) NOT NULL,
    total               numeric(14, 2) NOT NULL CHECK (total = subtotal + vat),
    aconto_paid         numeric(14, 2) NOT NULL DEFAULT 0,
    next_prepayment     numeric(14, 2) NOT NULL DEFAULT 0,
    amount_due          numeric(14, 2) NOT NULL
                        CHECK (amount_due = total - aconto_paid + next_prepayment),
    corrects_invoice_id uuid REFERENCES invoice,
    issued_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (series, year, seq),
    CHECK (kind = 'invoice' OR corrects_invoice_id IS NOT NULL)
);
CREATE INDEX invoice_by_account ON invoice (account_id, issued_at);
-- The ERP feed reads in issue order: (issued_at, invoice_id) is its cursor.
CREATE INDEX invoice_feed ON invoice (issued_at, invoice_id);

CREATE TABLE number_counter (
    series      text NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (series, year)
);

-- What settlement settled (settlement.completed) and every correction of it
-- (settlement.correction), as published; invoice_id is set by the invoice that bills it.
CREATE TABLE billable (
    source_id       text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('settlement', 'correction')),
    corrects        text,
    gsrn            text NOT NULL,
    customer_id     text NOT NULL,
    billing_period  text NOT NULL CHECK (billing_period ~ '^[0-9]{4}-[0-9]{2}$'),
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    consumption_kwh numeric(14, 3) NOT NULL,
    lines           jsonb NOT NULL,
    subtotal        numeric(14, 2) NOT NULL,
    vat             numeric(14, 2) NOT NULL,
    total           numeric(14, 2) NOT NULL,
    vat_rate        numeric(8, 6) NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    invoice_id      uuid REFERENCES invoice,
    CHECK (kind = 'settlement' OR corrects IS NOT NULL)
);
CREATE INDEX billable_unbilled ON billable (gsrn, billing_period) WHERE invoice_id IS NULL;
CREATE INDEX billable_by_invoice ON billable (invoice_id);

CREATE TABLE invoice_line (
    invoice_id   uuid NOT NULL REFERENCES invoice,
    position     integer NOT NULL,
    gsrn         text NOT NULL,
    source_id    text NOT NULL REFERENCES billable,
    source_kind  text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    code         text NOT NULL,
    revenue      text NOT NULL CHECK (revenue IN ('supplier', 'grid', 'energinet', 'elafgift')),
    quantity_kwh numeric(14, 3),
    days         integer,
    unit_price   numeric(18, 6),
    amount       numeric(14, 2) NOT NULL,
    vat          numeric(14, 2) NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

-- Aconto: the prepayment of a cycle (forudbetaling): billed on invoice_id (the previous
-- cycle's invoice, or a new payer's first prepayment invoice), deducted by settled_by (the
-- cycle's final settlement, opgørelse). One per account and cycle. Set ahead by back office
-- (a payer who asks for another amount), it has no invoice until the one that bills it.
CREATE TABLE prepayment (
    account_id text NOT NULL REFERENCES billing_account,
    cycle      text NOT NULL,
    amount     numeric(14, 2) NOT NULL CHECK (amount >= 0),
    invoice_id uuid REFERENCES invoice,
    settled_by uuid REFERENCES invoice,
    PRIMARY KEY (account_id, cycle),
    CHECK (settled_by IS NULL OR invoice_id IS NOT NULL)
);

-- Accounts receivable: every document and money movement of a billing account, signed
-- (positive: the payer owes more). The balance is the sum. (kind, reference) is unique, so
-- the same invoice, payment or reversal is never booked twice.
CREATE TABLE ledger_entry (
    entry_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id text NOT NULL REFERENCES billing_account,
    kind       text NOT NULL
               CHECK (kind IN ('invoice', 'credit_note', 'payment', 'reversal', 'fee',
                               'interest', 'refund')),
    reference  text NOT NULL,
    invoice_id uuid REFERENCES invoice,
    amount     numeric(14, 2) NOT NULL,
    booked_on  date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, reference)
);
CREATE INDEX ledger_by_account ON ledger_entry (account_id, entry_id);
