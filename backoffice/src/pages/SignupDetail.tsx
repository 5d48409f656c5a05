import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { ErrorState, Loaded } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, formatDateTime } from "../lib/format";
import { CONTACT_TYPE, END_REASON, EVENT_SOURCE, PROCESS_KIND, SIGNUP_TYPE, lookup, reasonsInWords } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { formatAddress } from "./CustomerDetail";
import { ResubmitForm } from "./ResubmitForm";

type Event = Schemas["PortfolioProcessEvent"];
const CANCELLABLE = new Set(["registered", "processing"]);

const eventColumns: Column<Event>[] = [
  { key: "at", header: "Tidspunkt", cell: (e) => formatDateTime(e.at), sortValue: (e) => e.at },
  { key: "status", header: "Status", cell: (e) => <StatusBadge kind="process" status={e.status} /> },
  { key: "source", header: "Kilde", cell: (e) => lookup(EVENT_SOURCE, e.source) },
  { key: "detail", header: "Detaljer", cell: (e) => e.detail ?? "–" },
];

function CancelSignup({ signupId, onDone }: { signupId: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await ok(api.POST("/api/signup/{signup_id}/cancel", { params: { path: { signup_id: signupId } } }));
      setConfirming(false);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      {error !== undefined && <ErrorState error={error} />}
      {confirming ? (
        <div role="group" aria-label="Bekræft annullering" className="flex flex-wrap items-center gap-3 rounded-md border border-red-300 bg-red-50 p-3">
          <p>Vil du annullere tilmeldingen? DataHub får besked, hvis anmodningen er sendt.</p>
          <button type="button" className="btn-danger" disabled={busy} onClick={cancel}>
            Ja, annullér
          </button>
          <button type="button" className="btn-secondary" disabled={busy} onClick={() => setConfirming(false)}>
            Fortryd
          </button>
        </div>
      ) : (
        <button type="button" className="btn-danger" onClick={() => setConfirming(true)}>
          Annullér tilmelding
        </button>
      )}
    </div>
  );
}

export function SignupDetail() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const signup = useApi(() => ok(api.GET("/api/signups/{signup_id}", { params: { path: { signup_id: id } } })), [id]);
  const events = useApi(() => ok(api.GET("/api/signups/{signup_id}/events", { params: { path: { signup_id: id } } })), [id]);
  const reload = () => {
    signup.reload();
    events.reload();
  };
  return (
    <Loaded state={signup}>
      {(s) => {
        const reasons = reasonsInWords(s.rejection_reason);
        return (
          <>
            <PageHeader
              title={`Tilmelding ${s.signup_id}`}
              actions={CANCELLABLE.has(s.status) ? <CancelSignup signupId={s.signup_id} onDone={reload} /> : undefined}
            >
              <span className="mr-2">Status:</span>
              <StatusBadge kind="signup" status={s.status} />
            </PageHeader>
            {s.status === "rejected" && (
              <section aria-label="Afvisning" className="mb-6 rounded-md border border-red-300 bg-red-50 p-4 text-red-900">
                <h2 className="font-semibold">Afvist af DataHub</h2>
                {reasons.length ? (
                  <ul className="mt-2 list-disc pl-5" data-testid="rejection-reasons">
                    {reasons.map((r) => (
                      <li key={r.original}>
                        {r.words} <span className="text-sm text-red-800">({r.original})</span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p>Ingen årsag angivet.</p>
                )}
              </section>
            )}
            {s.resubmission_of && (
              <p className="mb-4">
                Rettelse af <Link to={`/signups/${s.resubmission_of}`} className="link">tilmelding {s.resubmission_of}</Link>.
              </p>
            )}
            {s.resubmitted_as && (
              <p className="mb-4">
                Sendt igen som <Link to={`/signups/${s.resubmitted_as}`} className="link">tilmelding {s.resubmitted_as}</Link>.
              </p>
            )}
            <Section title="Tilmelding">
              <Facts
                items={[
                  ["Tilmeldings-id", <span className="font-mono">{s.signup_id}</span>],
                  ["Type", lookup(SIGNUP_TYPE, s.type)],
                  ["GSRN", <Link to={`/metering-points/${s.gsrn}`} className="link font-mono">{s.gsrn}</Link>],
                  ["DAR-id", <span className="font-mono">{s.dar_id}</span>],
                  ["Ikrafttræden", formatDate(s.effective_date)],
                  ["Produkt", <Link to={`/products/${s.product_id}`} className="link">Version {s.product_version}</Link>],
                  ["Oprettet", formatDateTime(s.created_at)],
                  ["Senest ændret", formatDateTime(s.updated_at)],
                  ...(s.end_date ? ([["Ophører", `${formatDate(s.end_date)} (${lookup(END_REASON, s.end_reason)})`]] as [string, string][]) : []),
                ]}
              />
            </Section>
            <Section title="Kunde">
              <Facts
                items={[
                  ["Navn", s.customer.name],
                  ["CPR/CVR", <span className="font-mono">{s.customer.cpr_cvr}</span>],
                  ["Kundetype", lookup(CONTACT_TYPE, s.customer.contact_type)],
                  ["E-mail", s.customer.email ?? "–"],
                  ["Telefon", s.customer.phone ?? "–"],
                  ["Faktureringsadresse", formatAddress(s.customer.billing_address)],
                  ["Betaler", s.payer ? `${s.payer.name} (${s.payer.cpr_cvr})` : "Kunden selv"],
                ]}
              />
            </Section>
            <Section title="Proces hos DataHub">
              <Facts
                items={[
                  ["Proces", lookup(PROCESS_KIND, s.process.kind)],
                  ["Status", <StatusBadge kind="process" status={s.process.status} />],
                  ["Ikrafttræden", formatDate(s.process.effective_date)],
                  ["DataHub-reference", s.process.datahub_reference ?? "–"],
                ]}
              />
            </Section>
            <Section title="Tidslinje">
              <Loaded state={events}>
                {(rows) => (
                  <DataTable
                    caption="Procesforløb"
                    columns={eventColumns}
                    rows={rows}
                    rowKey={(e) => `${e.at}-${e.status}-${e.process_id}`}
                    empty="Ingen hændelser endnu."
                  />
                )}
              </Loaded>
            </Section>
            {s.status === "rejected" && !s.resubmitted_as && (
              <Section title="Ret og send igen">
                <ResubmitForm signup={s} onDone={(newId) => navigate(`/signups/${newId}`)} />
              </Section>
            )}
          </>
        );
      }}
    </Loaded>
  );
}
