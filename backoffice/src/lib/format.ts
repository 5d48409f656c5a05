// How staff read dates, amounts and energy: Danish formats, Danish time.
const ZONE = "Europe/Copenhagen";

const dateFmt = new Intl.DateTimeFormat("da-DK", {
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
  timeZone: ZONE,
});
const dateTimeFmt = new Intl.DateTimeFormat("da-DK", {
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: ZONE,
});
const dkkFmt = new Intl.NumberFormat("da-DK", { style: "currency", currency: "DKK" });
const kwhFmt = new Intl.NumberFormat("da-DK", { minimumFractionDigits: 0, maximumFractionDigits: 3 });
const priceFmt = new Intl.NumberFormat("da-DK", { minimumFractionDigits: 2, maximumFractionDigits: 6 });

const DASH = "–";

/** A business date (ISO `YYYY-MM-DD`) as `dd.mm.yyyy`; the calendar date itself, no zone shift. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return DASH;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) return `${m[3]}.${m[2]}.${m[1]}`;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateFmt.format(d);
}

/** An instant as `dd.mm.yyyy hh.mm` in Danish time. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return DASH;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateTimeFmt.format(d);
}

function toNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** An amount (a decimal string from the API) as `1.234,56 kr.`. */
export function formatDkk(value: string | number | null | undefined): string {
  const n = toNumber(value);
  return n === null ? DASH : dkkFmt.format(n);
}

/** A price per kWh, all its decimals kept (`0,123456 kr./kWh`). */
export function formatDkkPerKwh(value: string | number | null | undefined): string {
  const n = toNumber(value);
  return n === null ? DASH : `${priceFmt.format(n)} kr./kWh`;
}

/** Energy as `1.234,567 kWh`. */
export function formatKwh(value: string | number | null | undefined): string {
  const n = toNumber(value);
  return n === null ? DASH : `${kwhFmt.format(n)} kWh`;
}
