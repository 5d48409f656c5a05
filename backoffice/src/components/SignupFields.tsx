// The parts of a signup form the new signup and the corrected re-submission share.
import { api, ok } from "../api/client";
import { useApi } from "../lib/useApi";
import { CONTACT_TYPE, PRICE_TYPE, SIGNUP_TYPE } from "../lib/labels";
import { formatDkk, formatDkkPerKwh } from "../lib/format";
import { cprCvrProblem, EMAIL, required, type Errors } from "../lib/validation";
import { Field } from "./Field";
import { ErrorState } from "./States";

export interface PersonValues {
  name: string;
  cpr_cvr: string;
  contact_type: string;
  email: string;
  phone: string;
}

export const EMPTY_PERSON: PersonValues = { name: "", cpr_cvr: "", contact_type: "private", email: "", phone: "" };

/** A person's problems; an empty CPR/CVR is allowed when *cprOptional* (keep the one on file). */
export function personErrors(p: PersonValues, cprOptional = false): Errors<keyof PersonValues> {
  return {
    name: required(p.name, "Skriv navnet."),
    cpr_cvr: !p.cpr_cvr.trim()
      ? cprOptional
        ? undefined
        : "Skriv CPR- eller CVR-nummeret."
      : cprCvrProblem(p.cpr_cvr, p.contact_type),
    email: p.email.trim() && !EMAIL.test(p.email.trim()) ? "E-mailadressen er ikke gyldig." : undefined,
    phone: p.phone.length > 20 ? "Telefonnummeret er for langt (højst 20 tegn)." : undefined,
  };
}

export function PersonFields({
  legend,
  value,
  onChange,
  errors,
  cprHint,
}: {
  legend: string;
  value: PersonValues;
  onChange: (v: PersonValues) => void;
  errors: Errors<keyof PersonValues>;
  cprHint?: string;
}) {
  const set = (key: keyof PersonValues) => (e: { target: { value: string } }) => onChange({ ...value, [key]: e.target.value });
  return (
    <fieldset className="grid grid-cols-1 gap-4 rounded-md border border-slate-200 bg-white p-4 md:grid-cols-2">
      <legend className="px-1 font-semibold">{legend}</legend>
      <Field label="Navn" error={errors.name} required>
        {(p) => <input {...p} className="input" maxLength={200} value={value.name} onChange={set("name")} />}
      </Field>
      <Field label="Kundetype" required>
        {(p) => (
          <select {...p} className="input" value={value.contact_type} onChange={set("contact_type")}>
            {Object.entries(CONTACT_TYPE).map(([code, text]) => (
              <option key={code} value={code}>
                {text}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label={value.contact_type === "business" ? "CVR-nummer" : "CPR-nummer"}
        error={errors.cpr_cvr}
        hint={cprHint}
        required={!cprHint}
      >
        {(p) => <input {...p} className="input" inputMode="numeric" maxLength={11} autoComplete="off" value={value.cpr_cvr} onChange={set("cpr_cvr")} />}
      </Field>
      <Field label="E-mail" error={errors.email}>
        {(p) => <input {...p} className="input" type="email" maxLength={254} value={value.email} onChange={set("email")} />}
      </Field>
      <Field label="Telefon" error={errors.phone}>
        {(p) => <input {...p} className="input" type="tel" maxLength={20} value={value.phone} onChange={set("phone")} />}
      </Field>
    </fieldset>
  );
}

export function ProductSelect({ value, onChange, error }: { value: string; onChange: (id: string) => void; error?: string }) {
  const products = useApi(() => ok(api.GET("/api/products")), []);
  if (products.error !== undefined) return <ErrorState error={products.error} onRetry={products.reload} />;
  return (
    <Field label="Produkt" error={error} required>
      {(p) => (
        <select {...p} className="input" value={value} onChange={(e) => onChange(e.target.value)} disabled={products.loading}>
          <option value="">{products.loading ? "Henter produkter…" : "Vælg produkt"}</option>
          {(products.data ?? []).map((o) => (
            <option key={o.product_id} value={o.product_id}>
              {o.name} – {PRICE_TYPE[o.price_type]}, tillæg {formatDkkPerKwh(o.margin_dkk_per_kwh)}, {formatDkk(o.subscription_dkk_per_month)}/md.
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function TypeAndDate({
  type,
  date,
  onType,
  onDate,
  dateError,
}: {
  type: string;
  date: string;
  onType: (t: string) => void;
  onDate: (d: string) => void;
  dateError?: string;
}) {
  return (
    <fieldset className="grid grid-cols-1 gap-4 rounded-md border border-slate-200 bg-white p-4 md:grid-cols-2">
      <legend className="px-1 font-semibold">Type og dato</legend>
      <div role="radiogroup" aria-label="Type" className="flex flex-col gap-2">
        <span className="text-sm font-medium">Type</span>
        {Object.entries(SIGNUP_TYPE).map(([code, text]) => (
          <label key={code} className="flex items-center gap-2">
            <input type="radio" name="signup-type" value={code} checked={type === code} onChange={() => onType(code)} />
            {text}
          </label>
        ))}
      </div>
      <Field
        label="Ikrafttrædelsesdato"
        error={dateError}
        hint={
          type === "switch"
            ? "Tom: hurtigst muligt (efter 15 arbejdsdages varsel). DataHub afgør den endelige dato."
            : "Tom: i dag. En tilflytning kan dateres op til 5 arbejdsdage tilbage."
        }
      >
        {(p) => <input {...p} className="input" type="date" value={date} onChange={(e) => onDate(e.target.value)} />}
      </Field>
    </fieldset>
  );
}

/** "" for empty text (the API's "not given" is an absent field). */
export function given(value: string): string | undefined {
  const v = value.trim();
  return v ? v : undefined;
}
