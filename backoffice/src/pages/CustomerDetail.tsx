import { Link, useParams } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { DataTable, type Column } from "../components/DataTable";
import { Facts, PageHeader, Section } from "../components/Page";
import { Loaded } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate } from "../lib/format";
import { CONTACT_TYPE, END_REASON, SIGNUP_TYPE, lookup } from "../lib/labels";
import { useApi } from "../lib/useApi";
import { CustomerHistory } from "./CustomerHistory";
import { SettlementLines, settlementsOf } from "./MeteringPointDetail";

type Detail = Schemas["PortfolioCustomerDetail"];
type Address = Schemas["PortfolioBillingAddress"];

export function formatAddress(a: Address): string {
  const unit = [a.floor, a.door].filter(Boolean).join(". ");
  return `${a.street} ${a.house_number}${unit ? `, ${unit}` : ""}, ${a.postal_code} ${a.city}`;
}

const gsrnLink = (gsrn: string) => (
  <Link to={`/metering-points/${gsrn}`} className="link font-mono">
    {gsrn}
  </Link>
);

const signupColumns: Column<Detail["signups"][number]>[] = [
  {
    key: "id",
    header: "Tilmelding",
    cell: (s) => (
      <Link to={`/signups/${s.signup_id}`} className="link font-mono text-sm">
        {s.signup_id}
      </Link>
    ),
  },
  { key: "gsrn", header: "GSRN", cell: (s) => <span className="font-mono">{s.gsrn}</span> },
  { key: "type", header: "Type", cell: (s) => lookup(SIGNUP_TYPE, s.type) },
  { key: "effective", header: "Ikrafttræden", cell: (s) => formatDate(s.effective_date), sortValue: (s) => s.effective_date },
  { key: "status", header: "Status", cell: (s) => <StatusBadge kind="signup" status={s.status} /> },
];

const contractColumns: Column<Detail["contracts"][number]>[] = [
  { key: "gsrn", header: "GSRN", cell: (c) => gsrnLink(c.gsrn) },
  {
    key: "product",
    header: "Produkt",
    cell: (c) => (
      <Link to={`/products/${c.product_id}`} className="link">
        {c.product_name}
      </Link>
    ),
  },
  { key: "version", header: "Prisversion", cell: (c) => c.product_version, align: "right" },
  { key: "start", header: "Start", cell: (c) => formatDate(c.start_date), sortValue: (c) => c.start_date },
  { key: "end", header: "Slut", cell: (c) => formatDate(c.end_date) },
  { key: "billing", header: "Fakturering", cell: (c) => c.billing_frequency },
  { key: "payment", header: "Betaling", cell: (c) => c.payment_model },
];

const pointColumns: Column<Detail["metering_points"][number]>[] = [
  { key: "gsrn", header: "GSRN", cell: (m) => gsrnLink(m.gsrn) },
  { key: "grid_area", header: "Netområde", cell: (m) => m.grid_area },
  { key: "price_area", header: "Prisområde", cell: (m) => m.price_area },
  { key: "type", header: "Type", cell: (m) => m.metering_point_type },
  { key: "resolution", header: "Opløsning", cell: (m) => (m.resolution === "PT15M" ? "15 minutter" : "1 time") },
];

const periodColumns: Column<Detail["supply_periods"][number]>[] = [
  { key: "gsrn", header: "GSRN", cell: (p) => gsrnLink(p.gsrn) },
  { key: "start", header: "Start", cell: (p) => formatDate(p.start_date), sortValue: (p) => p.start_date },
  { key: "end", header: "Slut", cell: (p) => formatDate(p.end_date) },
  { key: "status", header: "Status", cell: (p) => <StatusBadge kind="supply" status={p.status} /> },
  { key: "reason", header: "Ophørsårsag", cell: (p) => lookup(END_REASON, p.end_reason) },
];

function PointSettlements({ gsrn }: { gsrn: string }) {
  const settlements = useApi(() => settlementsOf(gsrn), [gsrn]);
  return (
    <Section title={`Afregnet for ${gsrn}`}>
      <Loaded state={settlements}>{(s) => <SettlementLines settlements={s.settlements} />}</Loaded>
    </Section>
  );
}

export function CustomerDetail() {
  const { id = "" } = useParams();
  const customer = useApi(() => ok(api.GET("/api/customers/{customer_id}", { params: { path: { customer_id: id } } })), [id]);
  return (
    <Loaded state={customer}>
      {(c) => (
        <>
          <PageHeader title={c.name}>Kunde</PageHeader>
          <Section title="Kundeoplysninger">
            <Facts
              items={[
                ["CPR/CVR", <span className="font-mono">{c.cpr_cvr}</span>],
                ["Kundetype", lookup(CONTACT_TYPE, c.contact_type)],
                ["E-mail", c.email ?? "–"],
                ["Telefon", c.phone ?? "–"],
                ["Faktureringsadresse", formatAddress(c.billing_address)],
                ["Betaler", c.payers.length ? c.payers.map((p) => p.name).join(", ") : "Kunden selv"],
              ]}
            />
          </Section>
          <Section title="Tilmeldinger">
            <DataTable caption="Kundens tilmeldinger" columns={signupColumns} rows={c.signups} rowKey={(s) => s.signup_id} empty="Ingen tilmeldinger." />
          </Section>
          <Section title="Kontrakter">
            <DataTable caption="Kontrakter" columns={contractColumns} rows={c.contracts} rowKey={(k) => k.contract_id} empty="Ingen kontrakter." />
          </Section>
          <Section title="Målepunkter">
            <DataTable caption="Målepunkter" columns={pointColumns} rows={c.metering_points} rowKey={(m) => m.gsrn} empty="Ingen målepunkter." />
          </Section>
          <Section title="Leveranceperioder">
            <DataTable caption="Leveranceperioder" columns={periodColumns} rows={c.supply_periods} rowKey={(p) => p.supply_period_id} empty="Ingen leveranceperioder." />
          </Section>
          {c.metering_points.map((m) => (
            <PointSettlements key={m.gsrn} gsrn={m.gsrn} />
          ))}
          <CustomerHistory customerId={c.customer_id} />
        </>
      )}
    </Loaded>
  );
}
