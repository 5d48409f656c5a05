import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { PageHeader, Section } from "../components/Page";
import { ErrorState } from "../components/States";
import { Field } from "../components/Field";
import { formatDate, formatDkk } from "../lib/format";
import { lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { CursorPager, PAYMENT_SOURCE, shortId, useCursor } from "./opsShared";

type Payment = Schemas["PaymentOut"];
const LIMIT = 50;

/** Back office names the payer (and, if it likes, the invoice) of an unmatched payment. */
export function PaymentSuspense() {
  const cursor = useCursor<string>("");
  const [chosen, setChosen] = useState<Payment>();
  const [done, setDone] = useState<Payment>();
  const list = useApi(
    () => ok(api.GET("/api/payments/suspense", { params: { query: { after: cursor.after, limit: LIMIT } } })),
    [cursor.after],
  );
  const next = list.data?.next;
  const columns: Column<Payment>[] = [
    {
      key: "payment_id",
      header: "Betaling",
      cell: (p) => (
        <Link to={`/payments/${p.payment_id}`} className="link font-mono text-sm" title={p.payment_id}>
          {shortId(p.payment_id)}
        </Link>
      ),
    },
    { key: "received_on", header: "Modtaget", cell: (p) => formatDate(p.received_on), sortValue: (p) => p.received_on },
    { key: "amount", header: "Beløb", cell: (p) => formatDkk(p.amount), sortValue: (p) => Number(p.amount), align: "right" },
    { key: "source", header: "Kilde", cell: (p) => lookup(PAYMENT_SOURCE, p.source), sortValue: (p) => p.source },
    { key: "reference", header: "Reference", cell: (p) => p.reference || "–", sortValue: (p) => p.reference },
    {
      key: "action",
      header: "Handling",
      cell: (p) => (
        <button
          type="button"
          className="btn-secondary"
          aria-label={`Fordel betaling på ${formatDkk(p.amount)} modtaget ${formatDate(p.received_on)}`}
          onClick={() => {
            setDone(undefined);
            setChosen(p);
          }}
        >
          Fordel
        </button>
      ),
    },
  ];
  return (
    <>
      <PageHeader title="Ikke-fordelte betalinger">Betalinger ingen regel kunne knytte til en betaler.</PageHeader>
      {done && (
        <div role="status" className="mb-4 rounded-md border border-green-300 bg-green-50 p-4 text-green-900">
          Betalingen på {formatDkk(done.amount)} er fordelt
          {done.allocations.length > 0 && <> på {done.allocations.map((a) => a.number).join(", ")}</>}.{" "}
          <Link to={`/payments/${done.payment_id}`} className="link">
            Se betalingen
          </Link>
        </div>
      )}
      {chosen && (
        <AllocateForm
          key={chosen.payment_id}
          payment={chosen}
          onCancel={() => setChosen(undefined)}
          onDone={(p) => {
            setChosen(undefined);
            setDone(p);
            list.reload();
          }}
        />
      )}
      {list.error !== undefined ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : (
        <>
          <DataTable
            caption="Ikke-fordelte betalinger"
            columns={columns}
            rows={list.data?.items ?? []}
            rowKey={(p) => p.payment_id}
            busy={list.loading}
            pageSize={LIMIT}
            empty={list.loading ? "Henter…" : "Ingen betalinger venter på fordeling."}
          />
          <CursorPager caption="Ikke-fordelte betalinger" page={cursor.page} hasNext={Boolean(next)} onNext={() => next && cursor.next(next)} onPrev={cursor.prev} />
        </>
      )}
    </>
  );
}

function AllocateForm({ payment, onCancel, onDone }: { payment: Payment; onCancel: () => void; onDone: (p: Payment) => void }) {
  const [account, setAccount] = useState("");
  const [invoice, setInvoice] = useState("");
  const [accountError, setAccountError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const trimmed = account.trim();
  // The account's open invoices, asked for once typing pauses (not on every keystroke).
  const [lookedUp, setLookedUp] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setLookedUp(trimmed), 400);
    return () => clearTimeout(timer);
  }, [trimmed]);
  const open = useApi(async () => {
    if (!lookedUp) return [];
    const [issued, partly] = await Promise.all(
      (["issued", "partly_paid"] as const).map((status) =>
        ok(api.GET("/api/invoices", { params: { query: { account: lookedUp, status, limit: 500 } } })),
      ),
    );
    return [...(issued?.items ?? []), ...(partly?.items ?? [])].filter((i) => i.kind === "invoice");
  }, [lookedUp]);

  const review = (e: FormEvent) => {
    e.preventDefault();
    if (!trimmed) {
      setAccountError("Angiv betalerkontoen, betalingen skal bogføres på.");
      return;
    }
    setConfirming(true);
  };
  const allocate = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await ok(
        api.POST("/api/payments/{payment_id}/allocate", {
          params: { path: { payment_id: payment.payment_id } },
          body: { account_id: trimmed, invoice_id: invoice || null },
        }),
      );
      onDone(result);
    } catch (err) {
      setError(err);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const chosenInvoice = open.data?.find((i) => i.invoice_id === invoice);
  return (
    <Section title={`Fordel betaling på ${formatDkk(payment.amount)}`}>
      <form onSubmit={review} className="flex max-w-xl flex-col gap-4 rounded-md border border-slate-200 bg-white p-4" noValidate>
        <p className="text-sm text-slate-700">
          Modtaget {formatDate(payment.received_on)} · reference “{payment.reference || "–"}”
        </p>
        <Field label="Betalerkonto" required error={accountError} hint="Betalerkontoens id, som det står på kundens fakturaer.">
          {(props) => (
            <input
              {...props}
              className="input font-mono"
              value={account}
              maxLength={100}
              disabled={confirming}
              onChange={(e) => {
                setAccount(e.target.value);
                setInvoice("");
                setAccountError(undefined);
              }}
            />
          )}
        </Field>
        <Field label="Faktura (valgfri)" hint="Betales først; resten går til kontoens øvrige åbne fakturaer, ældste først.">
          {(props) => (
            <select {...props} className="input" value={invoice} disabled={confirming || !open.data?.length} onChange={(e) => setInvoice(e.target.value)}>
              <option value="">Ældste åbne faktura først</option>
              {(open.data ?? []).map((i) => (
                <option key={i.invoice_id} value={i.invoice_id}>
                  {i.number} – forfald {formatDate(i.due_date)} – {formatDkk(i.amount_due)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {open.error !== undefined && <ErrorState error={open.error} />}
        {error !== undefined && <ErrorState error={error} />}
        {confirming ? (
          <div role="alertdialog" aria-label="Bekræft fordeling" className="rounded-md border border-amber-300 bg-amber-50 p-4">
            <p>
              Bogfør {formatDkk(payment.amount)} på betalerkonto <span className="font-mono">{trimmed}</span>
              {chosenInvoice ? <> og betal faktura {chosenInvoice.number} først</> : null}?
            </p>
            <div className="mt-3 flex gap-2">
              <button type="button" className="btn-primary" disabled={busy} onClick={allocate}>
                Bekræft fordeling
              </button>
              <button type="button" className="btn-secondary" disabled={busy} onClick={() => setConfirming(false)}>
                Tilbage
              </button>
            </div>
          </div>
        ) : (
          <div className="flex gap-2">
            <button type="submit" className="btn-primary">
              Fordel betaling
            </button>
            <button type="button" className="btn-secondary" onClick={onCancel}>
              Annullér
            </button>
          </div>
        )}
      </form>
    </Section>
  );
}
