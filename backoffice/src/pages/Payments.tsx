import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader, Section } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDkk } from "../lib/format";
import { useApi } from "../lib/useApi";

type CreditBalance = Schemas["CreditBalanceOut"];

const refundColumns: Column<CreditBalance>[] = [
  { key: "account_number", header: "Kontonummer", cell: (c) => c.account_number, sortValue: (c) => c.account_number },
  {
    key: "account_id",
    header: "Betalerkonto",
    cell: (c) => (
      <Link to={`/invoices?account=${encodeURIComponent(c.account_id)}`} className="link font-mono text-sm">
        {c.account_id}
      </Link>
    ),
  },
  { key: "amount", header: "Tilgodehavende", cell: (c) => formatDkk(c.amount), sortValue: (c) => Number(c.amount), align: "right" },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Payments: the API lists the unmatched ones (the suspense list) and finds one by its id; the
 * matched ones show on the invoices they pay. */
export function Payments() {
  const navigate = useNavigate();
  const [id, setId] = useState("");
  const [error, setError] = useState<string>();
  const refunds = useApi(() => ok(api.GET("/api/payments/refunds")), []);
  const find = (e: FormEvent) => {
    e.preventDefault();
    const value = id.trim();
    if (!UUID.test(value)) {
      setError("Et betalings-id har formen 8-4-4-4-12 hexadecimale tegn.");
      return;
    }
    navigate(`/payments/${value}`);
  };
  return (
    <>
      <PageHeader
        title="Betalinger"
        actions={
          <Link to="/payments/suspense" className="btn-primary">
            Ikke-fordelte betalinger
          </Link>
        }
      />
      <Section title="Find en betaling">
        <form onSubmit={find} className="flex items-end gap-2" noValidate>
          <div className="flex flex-col gap-1">
            <label htmlFor="payment-id" className="text-sm font-medium">
              Betalings-id
            </label>
            <input
              id="payment-id"
              className="input w-96 font-mono"
              value={id}
              aria-invalid={Boolean(error)}
              aria-describedby={error ? "payment-id-error" : undefined}
              onChange={(e) => {
                setId(e.target.value);
                setError(undefined);
              }}
            />
            {error && (
              <p id="payment-id-error" className="text-sm font-medium text-red-700">
                {error}
              </p>
            )}
          </div>
          <button type="submit" className="btn-secondary">
            Vis betaling
          </button>
        </form>
      </Section>
      <Section title="Tilgodehavender til udbetaling">
        {refunds.error !== undefined ? (
          <ErrorState error={refunds.error} onRetry={refunds.reload} />
        ) : (
          <DataTable
            caption="Tilgodehavender til udbetaling"
            columns={refundColumns}
            rows={refunds.data ?? []}
            rowKey={(c) => c.account_id}
            busy={refunds.loading}
            empty={refunds.loading ? "Henter…" : "Ingen betalere har penge til gode."}
          />
        )}
      </Section>
    </>
  );
}
