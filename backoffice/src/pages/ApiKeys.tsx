import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Field } from "../components/Field";
import { PageHeader, Section } from "../components/Page";
import { ErrorState } from "../components/States";
import { formatDateTime } from "../lib/format";
import { useApi } from "../lib/useApi";

type Key = Schemas["ApiKeyOut"];
type Created = Schemas["ApiKeyCreated"];

/** Scopes as typed: separated by commas or spaces (as `wattline apikey create --scopes`). */
function scopesOf(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState("");
  const [channel, setChannel] = useState("");
  const [rate, setRate] = useState("600");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [created, setCreated] = useState<Created>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setCreated(undefined);
    try {
      const body = { name: name.trim(), scopes: scopesOf(scopes), channel: channel.trim() || null, rate_limit_per_minute: Number(rate) };
      setCreated(await ok(api.POST("/api/api-keys", { body })));
      setName("");
      setScopes("");
      setChannel("");
      setRate("600");
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Ny API-nøgle">
      {created && (
        <div role="status" className="mb-4 rounded-md border border-green-300 bg-green-50 p-4 text-green-900">
          <p className="font-semibold">Nøglen {created.name} er oprettet.</p>
          <p className="mt-1">Kopiér den nu: den vises kun denne ene gang og kan ikke hentes igen.</p>
          <p className="mt-2">
            <code data-testid="new-api-key" className="select-all break-all rounded bg-white px-2 py-1 font-mono">
              {created.key}
            </code>
          </p>
        </div>
      )}
      {error !== undefined && <ErrorState error={error} />}
      <form onSubmit={submit} className="grid max-w-xl gap-4" aria-label="Ny API-nøgle">
        <Field label="Navn" required hint="Hvem bruger den, fx erp.">
          {(props) => <input {...props} className="input" value={name} required onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Rettigheder" required hint="admin, portal:issue eller <tjeneste>:read|write, adskilt af mellemrum eller komma.">
          {(props) => <input {...props} className="input font-mono" value={scopes} required onChange={(e) => setScopes(e.target.value)} />}
        </Field>
        <Field label="Kanal" hint="Salgskanalen nøglen er bundet til; tom: back office.">
          {(props) => <input {...props} className="input" value={channel} onChange={(e) => setChannel(e.target.value)} />}
        </Field>
        <Field label="Kald pr. minut" required>
          {(props) => (
            <input {...props} className="input w-32" type="number" min={1} required value={rate} onChange={(e) => setRate(e.target.value)} />
          )}
        </Field>
        <div>
          <button type="submit" className="btn-primary" disabled={busy}>
            Opret nøgle
          </button>
        </div>
      </form>
    </Section>
  );
}

function RevokeKey({ name, onDone }: { name: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const revoke = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await ok(api.DELETE("/api/api-keys/{name}", { params: { path: { name } } }));
      setConfirming(false);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-2">
      {error !== undefined && <ErrorState error={error} />}
      {confirming ? (
        <div role="group" aria-label={`Bekræft spærring af ${name}`} className="flex flex-wrap items-center gap-2">
          <span>Spærre {name}? Den afvises straks.</span>
          <button type="button" className="btn-danger" disabled={busy} onClick={revoke}>
            Ja, spær
          </button>
          <button type="button" className="btn-secondary" disabled={busy} onClick={() => setConfirming(false)}>
            Fortryd
          </button>
        </div>
      ) : (
        <button type="button" className="btn-secondary" aria-label={`Spær ${name}`} onClick={() => setConfirming(true)}>
          Spær
        </button>
      )}
    </div>
  );
}

/** The gateway's API keys: who may call the API with what, and a new key shown once. */
export function ApiKeys() {
  const list = useApi(() => ok(api.GET("/api/api-keys")), []);
  const columns: Column<Key>[] = [
    { key: "name", header: "Navn", cell: (k) => k.name, sortValue: (k) => k.name },
    { key: "prefix", header: "Præfiks", cell: (k) => <span className="font-mono text-sm">wl_{k.prefix}_…</span> },
    { key: "scopes", header: "Rettigheder", cell: (k) => <span className="font-mono text-sm">{k.scopes.join(" ")}</span> },
    { key: "channel", header: "Kanal", cell: (k) => k.channel ?? "Back office", sortValue: (k) => k.channel ?? "" },
    { key: "rate", header: "Kald pr. minut", cell: (k) => k.rate_limit_per_minute, align: "right" },
    { key: "created_at", header: "Oprettet", cell: (k) => formatDateTime(k.created_at), sortValue: (k) => k.created_at },
    {
      key: "revoked_at",
      header: "Spærret",
      cell: (k) => (k.revoked_at ? formatDateTime(k.revoked_at) : <RevokeKey name={k.name} onDone={list.reload} />),
      sortValue: (k) => k.revoked_at ?? "",
    },
  ];
  return (
    <>
      <PageHeader title="API-nøgler">Nøgler til Wattlines API; kun en administrator ser og ændrer dem.</PageHeader>
      <CreateKey onCreated={list.reload} />
      <Section title="Nøgler">
        {list.error !== undefined ? (
          <ErrorState error={list.error} onRetry={list.reload} />
        ) : (
          <DataTable
            caption="API-nøgler"
            columns={columns}
            rows={list.data ?? []}
            rowKey={(k) => k.name}
            busy={list.loading}
            empty={list.loading ? "Henter…" : "Ingen API-nøgler."}
          />
        )}
      </Section>
    </>
  );
}
