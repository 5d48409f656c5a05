import { useRef, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { api, ok, type Schemas } from "../api/client";
import { Field } from "../components/Field";
import { PageHeader } from "../components/Page";
import {
  EMPTY_PERSON,
  given,
  personErrors,
  PersonFields,
  ProductSelect,
  TypeAndDate,
  type PersonValues,
} from "../components/SignupFields";
import { ErrorState } from "../components/States";
import { hasErrors, POSTAL_CODE, required, UUID, type Errors } from "../lib/validation";

type Address = Schemas["PortfolioAddress"];
type SignupIn = Schemas["SignupIn"];

interface PostalValues {
  street: string;
  house_number: string;
  floor: string;
  door: string;
  postal_code: string;
  city: string;
}
const EMPTY_POSTAL: PostalValues = { street: "", house_number: "", floor: "", door: "", postal_code: "", city: "" };

function postalErrors(a: PostalValues): Errors<keyof PostalValues> {
  return {
    street: required(a.street, "Skriv vejnavnet."),
    house_number: required(a.house_number, "Skriv husnummeret."),
    postal_code: POSTAL_CODE.test(a.postal_code.trim()) ? undefined : "Et postnummer er 4 cifre.",
    city: required(a.city, "Skriv byen."),
  };
}

function PostalFields({
  legend,
  value,
  onChange,
  errors,
}: {
  legend: string;
  value: PostalValues;
  onChange: (v: PostalValues) => void;
  errors: Errors<keyof PostalValues>;
}) {
  const input = (key: keyof PostalValues, label: string, max: number, isRequired: boolean) => (
    <Field label={label} error={errors[key]} required={isRequired}>
      {(p) => (
        <input {...p} className="input" maxLength={max} value={value[key]} onChange={(e) => onChange({ ...value, [key]: e.target.value })} />
      )}
    </Field>
  );
  return (
    <fieldset className="grid grid-cols-2 gap-4 rounded-md border border-slate-200 bg-white p-4 md:grid-cols-3">
      <legend className="px-1 font-semibold">{legend}</legend>
      {input("street", "Vej", 200, true)}
      {input("house_number", "Husnummer", 20, true)}
      {input("floor", "Etage", 10, false)}
      {input("door", "Dør", 10, false)}
      {input("postal_code", "Postnummer", 4, true)}
      {input("city", "By", 100, true)}
    </fieldset>
  );
}

function AddressLookup({ onFound }: { onFound: (a: Address | null) => void }) {
  const [darId, setDarId] = useState("");
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const lookUp = async () => {
    const id = darId.trim();
    onFound(null);
    setError(undefined);
    if (!UUID.test(id)) {
      setProblem("Et DAR-id er et UUID (fx 0a3f50a0-…-…).");
      return;
    }
    setProblem(undefined);
    setBusy(true);
    try {
      onFound(await ok(api.GET("/api/address/{dar_id}", { params: { path: { dar_id: id } } })));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-2">
      <div className="flex items-end gap-2">
        <div className="w-[28rem]">
          <Field label="DAR-id (adressens id)" error={problem} required>
            {(p) => (
              <input
                {...p}
                className="input font-mono"
                value={darId}
                onChange={(e) => setDarId(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    void lookUp();
                  }
                }}
              />
            )}
          </Field>
        </div>
        <button type="button" className="btn-secondary" onClick={lookUp} disabled={busy}>
          {busy ? "Slår op…" : "Slå adressen op"}
        </button>
      </div>
      {error !== undefined && <ErrorState error={error} />}
    </div>
  );
}

/** A fresh Idempotency-Key (crypto.randomUUID exists only on https or localhost). */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function SignupNew() {
  const navigate = useNavigate();
  const idempotencyKey = useRef(newKey());
  const [address, setAddress] = useState<Address | null>(null);
  const [gsrn, setGsrn] = useState("");
  const [productId, setProductId] = useState("");
  const [customer, setCustomer] = useState<PersonValues>(EMPTY_PERSON);
  const [billing, setBilling] = useState<PostalValues>(EMPTY_POSTAL);
  const [separatePayer, setSeparatePayer] = useState(false);
  const [payer, setPayer] = useState<PersonValues>(EMPTY_PERSON);
  const [payerAddress, setPayerAddress] = useState<PostalValues>(EMPTY_POSTAL);
  const [type, setType] = useState("switch");
  const [date, setDate] = useState("");
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const found = (a: Address | null) => {
    setAddress(a);
    setGsrn(a && a.metering_points.length === 1 ? (a.metering_points[0]?.gsrn ?? "") : "");
  };

  const errors = {
    address: address ? undefined : "Slå adressen op først.",
    gsrn: address && address.metering_points.length > 1 && !gsrn ? "Vælg målepunktet på adressen." : undefined,
    product: productId ? undefined : "Vælg et produkt.",
  };
  const customerProblems = personErrors(customer);
  const billingProblems = postalErrors(billing);
  const payerProblems = separatePayer ? personErrors(payer) : {};
  const payerAddressProblems = separatePayer ? postalErrors(payerAddress) : {};
  const invalid =
    Object.values(errors).some(Boolean) ||
    hasErrors(customerProblems) ||
    hasErrors(billingProblems) ||
    hasErrors(payerProblems) ||
    hasErrors(payerAddressProblems);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShown(true);
    if (invalid || !address) return;
    const body: SignupIn = {
      dar_id: address.dar_id,
      gsrn: address.metering_points.length > 1 ? gsrn : undefined,
      customer_name: customer.name.trim(),
      cpr_cvr: customer.cpr_cvr.trim(),
      contact_type: customer.contact_type as SignupIn["contact_type"],
      email: given(customer.email),
      phone: given(customer.phone),
      product_id: productId,
      type: type as SignupIn["type"],
      effective_date: given(date),
      billing_street: billing.street.trim(),
      billing_house_number: billing.house_number.trim(),
      billing_floor: given(billing.floor),
      billing_door: given(billing.door),
      billing_postal_code: billing.postal_code.trim(),
      billing_city: billing.city.trim(),
      ...(separatePayer
        ? {
            payer_name: payer.name.trim(),
            payer_cpr_cvr: payer.cpr_cvr.trim(),
            payer_contact_type: payer.contact_type as SignupIn["contact_type"],
            payer_email: given(payer.email),
            payer_phone: given(payer.phone),
            payer_billing_street: payerAddress.street.trim(),
            payer_billing_house_number: payerAddress.house_number.trim(),
            payer_billing_floor: given(payerAddress.floor),
            payer_billing_door: given(payerAddress.door),
            payer_billing_postal_code: payerAddress.postal_code.trim(),
            payer_billing_city: payerAddress.city.trim(),
          }
        : {}),
    };
    setBusy(true);
    setError(undefined);
    try {
      const created = await ok(
        api.POST("/api/signup", { params: { header: { "Idempotency-Key": idempotencyKey.current } }, body }),
      );
      navigate(`/signups/${created.signup_id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const show = <T,>(v: T): T | undefined => (shown ? v : undefined);
  return (
    <>
      <PageHeader title="Ny tilmelding" />
      <form onSubmit={submit} noValidate aria-label="Ny tilmelding" className="flex max-w-4xl flex-col gap-6">
        <fieldset className="flex flex-col gap-3 rounded-md border border-slate-200 bg-white p-4">
          <legend className="px-1 font-semibold">1. Adresse og målepunkt</legend>
          <AddressLookup onFound={found} />
          {show(errors.address) && !address && <p className="text-sm font-medium text-red-700">{errors.address}</p>}
          {address && address.metering_points.length === 0 && (
            <p role="alert" className="text-red-800">Der er ingen målepunkter på adressen.</p>
          )}
          {address && address.metering_points.length > 0 && (
            <div role="radiogroup" aria-label="Målepunkt (GSRN)" aria-invalid={Boolean(show(errors.gsrn))} aria-describedby={show(errors.gsrn) ? "gsrn-error" : undefined}>
              <p className="mb-1 text-sm font-medium">
                {address.metering_points.length > 1 ? "Adressen har flere målepunkter – vælg det rigtige:" : "Målepunkt på adressen:"}
              </p>
              {address.metering_points.map((m) => (
                <label key={m.gsrn} className="flex items-center gap-2 py-1">
                  <input type="radio" name="gsrn" value={m.gsrn} checked={gsrn === m.gsrn} onChange={() => setGsrn(m.gsrn)} />
                  <span className="font-mono">{m.gsrn}</span>
                  {m.supplied_by_us && <span className="text-sm text-slate-600">(leveres allerede af os)</span>}
                  {m.open_process && <span className="text-sm text-amber-800">(en proces er i gang)</span>}
                </label>
              ))}
              {show(errors.gsrn) && (
                <p id="gsrn-error" className="text-sm font-medium text-red-700">
                  {errors.gsrn}
                </p>
              )}
            </div>
          )}
        </fieldset>
        <fieldset className="rounded-md border border-slate-200 bg-white p-4">
          <legend className="px-1 font-semibold">2. Produkt</legend>
          <ProductSelect value={productId} onChange={setProductId} error={show(errors.product)} />
        </fieldset>
        <PersonFields legend="3. Kunde" value={customer} onChange={setCustomer} errors={show(customerProblems) ?? {}} />
        <PostalFields legend="Kundens faktureringsadresse" value={billing} onChange={setBilling} errors={show(billingProblems) ?? {}} />
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={separatePayer} onChange={(e) => setSeparatePayer(e.target.checked)} />
          Betaleren er en anden end kunden
        </label>
        {separatePayer && (
          <>
            <PersonFields legend="Betaler" value={payer} onChange={setPayer} errors={show(payerProblems) ?? {}} />
            <PostalFields legend="Betalerens adresse" value={payerAddress} onChange={setPayerAddress} errors={show(payerAddressProblems) ?? {}} />
          </>
        )}
        <TypeAndDate type={type} date={date} onType={setType} onDate={setDate} />
        {shown && invalid && (
          <p role="alert" className="font-medium text-red-700">
            Ret de markerede felter, før tilmeldingen kan sendes.
          </p>
        )}
        {error !== undefined && <ErrorState error={error} />}
        <div>
          <button type="submit" className="btn-primary" disabled={busy}>
            {busy ? "Sender…" : "Opret tilmelding"}
          </button>
        </div>
      </form>
    </>
  );
}
