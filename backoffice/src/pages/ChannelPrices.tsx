import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Field } from "../components/Field";
import { Facts, Section } from "../components/Page";
import { ErrorState, Loaded } from "../components/States";
import { formatDate, formatDkk, formatDkkPerKwh } from "../lib/format";
import { useApi } from "../lib/useApi";

type Current = Schemas["PortfolioChannelPrice"];
type Version = Schemas["PortfolioChannelVersion"];
type Channel = Version["channel"];

export const CHANNEL: Record<Channel, string> = {
  web: "Web",
  app: "App",
  customer_service: "Kundeservice",
  partner: "Partnere",
};
const CHANNELS = Object.keys(CHANNEL) as Channel[];

const currentColumns: Column<Current>[] = [
  { key: "channel", header: "Kanal", cell: (c) => CHANNEL[c.channel] },
  { key: "source", header: "Pris", cell: (c) => (c.price_source === "channel" ? "Kanalens egen" : "Produktets grundpris") },
  { key: "version", header: "Version", cell: (c) => c.version, align: "right" },
  { key: "margin", header: "Tillæg", cell: (c) => formatDkkPerKwh(c.margin_dkk_per_kwh), align: "right" },
  { key: "subscription", header: "Abonnement pr. måned", cell: (c) => formatDkk(c.subscription_dkk_per_month), align: "right" },
  { key: "to", header: "Gælder til", cell: (c) => formatDate(c.valid_to) },
];

const versionColumns: Column<Version>[] = [
  { key: "version", header: "Version", cell: (v) => v.version, sortValue: (v) => v.version, align: "right" },
  { key: "channel", header: "Kanal", cell: (v) => CHANNEL[v.channel] },
  { key: "from", header: "Gælder fra", cell: (v) => formatDate(v.valid_from), sortValue: (v) => v.valid_from },
  { key: "to", header: "Gælder til", cell: (v) => formatDate(v.valid_to) },
  { key: "margin", header: "Tillæg", cell: (v) => formatDkkPerKwh(v.margin_dkk_per_kwh), align: "right" },
  { key: "subscription", header: "Abonnement pr. måned", cell: (v) => formatDkk(v.subscription_dkk_per_month), align: "right" },
];

type Row = { margin: string; subscription: string };
const AMOUNT = /^-?\d+([.,]\d{1,6})?$/;
const decimal = (s: string) => s.trim().replace(",", ".");

/** A campaign: the channels given a margin get new price versions from the date (the older
 * versions stay as they were). The API checks each margin against the product's corridor. */
function PublishCampaign({ productId, priceType, onDone }: { productId: string; priceType: "spot" | "fixed"; onDone: () => void }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [rows, setRows] = useState<Record<Channel, Row>>(
    () => Object.fromEntries(CHANNELS.map((c) => [c, { margin: "", subscription: "" }])) as Record<Channel, Row>,
  );
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [published, setPublished] = useState<string>();

  const given = CHANNELS.filter((c) => rows[c].margin.trim() !== "");
  const rowProblem = (c: Channel) => {
    const r = rows[c];
    if (r.margin.trim() === "") return undefined;
    if (!AMOUNT.test(r.margin.trim())) return "Tillægget er et beløb i kr. pr. kWh, fx 0,04.";
    if (!AMOUNT.test(r.subscription.trim())) return "Angiv abonnementet i kr. pr. måned.";
    return undefined;
  };
  const fromProblem = from ? undefined : "Vælg en dato.";
  const noneProblem = given.length ? undefined : "Angiv tillæg for mindst én kanal.";
  const invalid = Boolean(fromProblem || noneProblem || CHANNELS.some(rowProblem));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShown(true);
    if (invalid) return;
    setBusy(true);
    setError(undefined);
    try {
      const campaign = await ok(
        api.POST("/api/products/{product_id}/channel-prices", {
          params: { path: { product_id: productId } },
          body: {
            valid_from: from,
            valid_to: to || null,
            // Amounts go as decimal strings, exact (the API parses them as decimals, never floats).
            prices: given.map((c) => ({
              channel: c,
              price_type: priceType,
              margin_dkk_per_kwh: decimal(rows[c].margin) as unknown as number,
              subscription_dkk_per_month: decimal(rows[c].subscription) as unknown as number,
            })),
          },
        }),
      );
      setPublished(`Kampagnen er udgivet: version ${campaign.versions.map((v) => v.version).join(", ")}.`);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const err = <T,>(v: T) => (shown ? v : undefined);
  return (
    <form onSubmit={submit} noValidate aria-label="Udgiv kampagne" className="flex flex-col gap-4">
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <Field label="Gælder fra" error={err(fromProblem)} required>
          {(p) => <input {...p} type="date" className="input" value={from} onChange={(e) => setFrom(e.target.value)} />}
        </Field>
        <Field label="Gælder til (valgfri)" hint="Sidste dag; tom: indtil kanalens næste version.">
          {(p) => <input {...p} type="date" className="input" value={to} onChange={(e) => setTo(e.target.value)} />}
        </Field>
      </div>
      {CHANNELS.map((c) => (
        <fieldset key={c} className="grid grid-cols-1 gap-4 rounded-md border border-slate-200 bg-white p-4 md:grid-cols-2">
          <legend className="px-1 font-medium">{CHANNEL[c]}</legend>
          <Field label={`Tillæg ${CHANNEL[c]} (kr./kWh)`} error={err(rowProblem(c))}>
            {(p) => (
              <input {...p} className="input" inputMode="decimal" value={rows[c].margin}
                onChange={(e) => setRows({ ...rows, [c]: { ...rows[c], margin: e.target.value } })} />
            )}
          </Field>
          <Field label={`Abonnement ${CHANNEL[c]} (kr./måned)`}>
            {(p) => (
              <input {...p} className="input" inputMode="decimal" value={rows[c].subscription}
                onChange={(e) => setRows({ ...rows, [c]: { ...rows[c], subscription: e.target.value } })} />
            )}
          </Field>
        </fieldset>
      ))}
      {shown && noneProblem && <p className="text-sm font-medium text-red-700">{noneProblem}</p>}
      {error !== undefined && <ErrorState error={error} />}
      {published && <p role="status" className="text-green-800">{published}</p>}
      <div>
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? "Udgiver…" : "Udgiv kampagne"}
        </button>
      </div>
    </form>
  );
}

/** A product's prices per sales channel today, every channel version ever published, and the
 * form that publishes a campaign. */
export function ChannelPrices({ productId, priceType }: { productId: string; priceType: "spot" | "fixed" }) {
  const prices = useApi(
    () => ok(api.GET("/api/products/{product_id}/channel-prices", { params: { path: { product_id: productId } } })),
    [productId],
  );
  return (
    <>
      <Loaded state={prices}>
        {(p) => (
          <>
            <Section title="Kanalpriser i dag">
              <Facts
                items={[
                  ["Mindste tillæg", p.min_margin_dkk_per_kwh ? formatDkkPerKwh(p.min_margin_dkk_per_kwh) : "Ingen grænse"],
                  ["Største tillæg", p.max_margin_dkk_per_kwh ? formatDkkPerKwh(p.max_margin_dkk_per_kwh) : "Ingen grænse"],
                ]}
              />
              <DataTable caption="Kanalpriser i dag" columns={currentColumns} rows={p.current} rowKey={(c) => c.channel} empty="Produktet har ingen pris i dag." />
            </Section>
            <Section title="Kanalprisversioner">
              <DataTable caption="Kanalprisversioner" columns={versionColumns} rows={p.versions} rowKey={(v) => String(v.version)} empty="Ingen kanalpriser endnu: alle kanaler sælger til grundprisen." />
            </Section>
          </>
        )}
      </Loaded>
      <Section title="Udgiv kampagne">
        <PublishCampaign productId={productId} priceType={priceType} onDone={prices.reload} />
      </Section>
    </>
  );
}
