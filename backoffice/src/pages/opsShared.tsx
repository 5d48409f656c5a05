// What the finance and operations pages share: Danish words for their codes, a status badge for
// them, filters kept in the address, and paging for the APIs that page by cursor (?after=).
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { TONES } from "../components/StatusBadge";
import type { Tone } from "../lib/labels";

interface Word {
  text: string;
  tone: Tone;
}

const w = (text: string, tone: Tone = "neutral"): Word => ({ text, tone });

const STATUS: Record<string, Record<string, Word>> = {
  run: {
    waiting: w("Venter", "info"),
    queued: w("I kø", "info"),
    running: w("Kører", "warning"),
    completed: w("Gennemført", "success"),
    blocked: w("Blokeret", "danger"),
    failed: w("Fejlet", "danger"),
  },
  invoice: {
    issued: w("Udstedt", "info"),
    partly_paid: w("Delvist betalt", "warning"),
    paid: w("Betalt", "success"),
    credited: w("Krediteret", "neutral"),
  },
  payment: {
    matched: w("Fordelt", "success"),
    unmatched: w("Ikke fordelt", "warning"),
    reversed: w("Tilbageført", "danger"),
  },
  reconciliation: {
    matched: w("Stemmer", "success"),
    deviation: w("Afvigelse", "danger"),
    missing_ours: w("Mangler hos os", "warning"),
    missing_datahub: w("Mangler hos DataHub", "warning"),
  },
};
export type OpsKind = keyof typeof STATUS;


export function opsStatusText(kind: OpsKind, code: string): string {
  return STATUS[kind]?.[code]?.text ?? code;
}

export function opsStatuses(kind: OpsKind): string[] {
  return Object.keys(STATUS[kind] ?? {});
}

/** A status in Danish words; the code stays in data-status. */
export function OpsBadge({ kind, status }: { kind: OpsKind; status: string }) {
  const word = STATUS[kind]?.[status] ?? w(status);
  return (
    <span
      data-status={status}
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-sm font-medium ring-1 ring-inset ${TONES[word.tone]}`}
    >
      {word.text}
    </span>
  );
}

/** Settlement and invoice line codes as the bill prints them (invoicing's bills.LABELS). */
export const LINE_CODE: Record<string, string> = {
  spot_energy: "Elpris (spotpris)",
  supplier_margin: "Tillæg til spotpris",
  fixed_price_energy: "Elpris (fastpris)",
  grid_tariff: "Nettarif",
  system_tariff: "Systemtarif (Energinet)",
  transmission_tariff: "Transmissionstarif (Energinet)",
  electricity_tax: "Elafgift",
  grid_subscription: "Netabonnement",
  supplier_subscription: "Abonnement",
  grid_fee: "Gebyr (netselskab)",
  energinet_fee: "Gebyr (Energinet)",
  solar_export_credit: "Salg af solcellestrøm (spotpris)",
};

export const RUN_TRIGGER: Record<string, string> = {
  schedule: "Planlagt",
  retry: "Genforsøg",
  api: "API",
  cli: "Kommandolinje",
};

export const INVOICE_KIND: Record<string, string> = { invoice: "Faktura", credit_note: "Kreditnota" };

export const PAYMENT_SOURCE: Record<string, string> = {
  betalingsservice: "Betalingsservice",
  fi_card: "FI-kort",
  bank: "Bankoverførsel",
  manual: "Manuel",
};

export const CHARGE_TYPE: Record<string, string> = { D01: "Abonnement", D02: "Gebyr", D03: "Tarif" };

/** A period `[start, end)` as the days it covers: `01.01.2025–31.01.2025`. */
export function formatPeriod(start: string, endExclusive: string): string {
  const end = new Date(`${endExclusive}T12:00:00Z`);
  end.setUTCDate(end.getUTCDate() - 1);
  const last = end.toISOString().slice(0, 10);
  const dmy = (iso: string) => iso.split("-").reverse().join(".");
  return `${dmy(start)}–${dmy(last)}`;
}

/** A short form of a uuid for a table cell; the whole id in its title. */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

export interface FilterField {
  name: string;
  label: string;
  placeholder?: string;
  /** A select of these codes (with "Alle"), else a text box. */
  options?: { value: string; label: string }[];
  pattern?: string;
  title?: string;
  type?: "text" | "date" | "datetime-local";
}

/** The filters of the address's query (deep links, the back button): applied together on
 * submit, which also drops the cursor. */
export function useFilters<K extends string>(names: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(names.map((n) => [n, params.get(n) ?? ""])) as Record<K, string>;
  const apply = (next: Partial<Record<K, string>>) =>
    setParams(() => {
      const out = new URLSearchParams();
      for (const n of names) {
        const v = next[n];
        if (v) out.set(n, v);
      }
      return out;
    });
  return { values, apply, key: names.map((n) => values[n]).join("|") };
}

export function FilterBar({
  fields,
  values,
  onApply,
}: {
  fields: FilterField[];
  values: Record<string, string>;
  onApply: (values: Record<string, string>) => void;
}) {
  const [draft, setDraft] = useState(values);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, v.trim()])));
  };
  return (
    <form onSubmit={submit} className="mb-4 flex flex-wrap items-end gap-4" aria-label="Filtre">
      {fields.map((f) => (
        <label key={f.name} className="flex flex-col gap-1 text-sm font-medium">
          {f.label}
          {f.options ? (
            <select
              className="input w-48"
              value={draft[f.name] ?? ""}
              onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })}
            >
              <option value="">Alle</option>
              {f.options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          ) : (
            <input
              type={f.type ?? "text"}
              className="input w-48"
              value={draft[f.name] ?? ""}
              placeholder={f.placeholder}
              pattern={f.pattern}
              title={f.title}
              maxLength={100}
              onChange={(e) => setDraft({ ...draft, [f.name]: e.target.value })}
            />
          )}
        </label>
      ))}
      <button type="submit" className="btn-secondary">
        Filtrér
      </button>
    </form>
  );
}

/** Cursor paging (`?after=` / `next`): the cursors walked so far, reset when *key* (the
 * filters) changes. */
export function useCursor<C extends string | number>(key: string) {
  const [state, setState] = useState<{ key: string; stack: C[] }>({ key, stack: [] });
  const stack = state.key === key ? state.stack : [];
  return {
    after: stack.length ? stack[stack.length - 1] : undefined,
    page: stack.length + 1,
    next: (cursor: C) => setState({ key, stack: [...stack, cursor] }),
    prev: () => setState({ key, stack: stack.slice(0, -1) }),
  };
}

export function CursorPager({
  caption,
  page,
  hasNext,
  onNext,
  onPrev,
}: {
  caption: string;
  page: number;
  hasNext: boolean;
  onNext: () => void;
  onPrev: () => void;
}) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav aria-label={`Sider: ${caption}`} className="mt-3 flex items-center gap-3 text-sm">
      <button type="button" className="btn-secondary" disabled={page <= 1} onClick={onPrev}>
        Forrige
      </button>
      <span aria-live="polite">Side {page}</span>
      <button type="button" className="btn-secondary" disabled={!hasNext} onClick={onNext}>
        Næste
      </button>
    </nav>
  );
}
