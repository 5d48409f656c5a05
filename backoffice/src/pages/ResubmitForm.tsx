import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client";
import { Field } from "../components/Field";
import { given, personErrors, PersonFields, ProductSelect, TypeAndDate, type PersonValues } from "../components/SignupFields";
import { ErrorState } from "../components/States";
import { GSRN, hasErrors } from "../lib/validation";

type Signup = Schemas["PortfolioSignupDetail"];
type ResubmitIn = Schemas["ResubmitIn"];

/** A corrected copy of a rejected signup: prefilled from it; what is left unchanged is taken
 * from the rejected signup by the API (the CPR/CVR too: it is only shown masked). */
export function ResubmitForm({ signup, onDone }: { signup: Signup; onDone: (newSignupId: string) => void }) {
  const [person, setPerson] = useState<PersonValues>({
    name: signup.customer.name,
    cpr_cvr: "",
    contact_type: signup.customer.contact_type,
    email: signup.customer.email ?? "",
    phone: signup.customer.phone ?? "",
  });
  const [gsrn, setGsrn] = useState(signup.gsrn);
  const [productId, setProductId] = useState(signup.product_id);
  const [type, setType] = useState(signup.type);
  const [date, setDate] = useState("");
  const [shown, setShown] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const personProblems = personErrors(person, person.contact_type === signup.customer.contact_type);
  const gsrnProblem = GSRN.test(gsrn.trim()) ? undefined : "Et GSRN er 18 cifre.";
  const productProblem = productId ? undefined : "Vælg et produkt.";
  const invalid = hasErrors(personProblems) || Boolean(gsrnProblem || productProblem);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShown(true);
    if (invalid) return;
    const c = signup.customer;
    const changed = <T,>(next: T, old: T): T | undefined => (next === old ? undefined : next);
    const body: ResubmitIn = {
      gsrn: changed(gsrn.trim(), signup.gsrn),
      customer_name: changed(person.name.trim(), c.name),
      cpr_cvr: given(person.cpr_cvr),
      contact_type: changed(person.contact_type, c.contact_type) as ResubmitIn["contact_type"],
      email: changed(given(person.email), c.email ?? undefined),
      phone: changed(given(person.phone), c.phone ?? undefined),
      product_id: changed(productId, signup.product_id),
      type: changed(type, signup.type) as ResubmitIn["type"],
      effective_date: given(date),
    };
    setBusy(true);
    setError(undefined);
    try {
      const created = await ok(
        api.POST("/api/signups/{signup_id}/resubmit", { params: { path: { signup_id: signup.signup_id } }, body }),
      );
      onDone(created.signup_id);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const err = <T,>(v: T) => (shown ? v : undefined);
  return (
    <form onSubmit={submit} noValidate aria-label="Ret og send igen" className="flex flex-col gap-4">
      <p className="text-slate-700">Ret det, DataHub afviste, og send tilmeldingen igen som en ny tilmelding.</p>
      <PersonFields
        legend="Kunde"
        value={person}
        onChange={setPerson}
        errors={err(personProblems) ?? {}}
        cprHint="Tomt: samme nummer som før (vises kun maskeret)."
      />
      <div className="grid grid-cols-1 gap-4 rounded-md border border-slate-200 bg-white p-4 md:grid-cols-2">
        <Field label="GSRN" error={err(gsrnProblem)} required>
          {(p) => <input {...p} className="input font-mono" inputMode="numeric" maxLength={18} value={gsrn} onChange={(e) => setGsrn(e.target.value)} />}
        </Field>
        <ProductSelect value={productId} onChange={setProductId} error={err(productProblem)} />
      </div>
      <TypeAndDate type={type} date={date} onType={setType} onDate={setDate} />
      {error !== undefined && <ErrorState error={error} />}
      <div>
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? "Sender…" : "Send rettet tilmelding"}
        </button>
      </div>
    </form>
  );
}
