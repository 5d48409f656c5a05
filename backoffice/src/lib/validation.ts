// The checks the portfolio makes on a signup, made before submitting so staff see them at once.
// The server stays the judge: its problem+json answer is shown when it refuses anyway.

export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
export const POSTAL_CODE = /^[0-9]{4}$/;
export const GSRN = /^[0-9]{18}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a CPR (private) or CVR (business) number is refused, or undefined when it looks valid
 * (CPR: a real birth date DDMMYY and four digits; CVR: eight digits passing mod 11). */
export function cprCvrProblem(value: string, contactType: string): string | undefined {
  const digits = value.replace(/[\s-]/g, "");
  if (contactType === "business") {
    if (!/^[0-9]{8}$/.test(digits)) return "Et CVR-nummer er 8 cifre.";
    const weights = [2, 7, 6, 5, 4, 3, 2, 1];
    const sum = weights.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
    return sum % 11 === 0 ? undefined : "CVR-nummeret findes ikke (kontrolcifferet passer ikke).";
  }
  if (!/^[0-9]{10}$/.test(digits)) return "Et CPR-nummer er 10 cifre (DDMMÅÅ-XXXX).";
  const day = Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  if (month < 1 || month > 12 || day < 1 || day > 31) return "CPR-nummeret starter ikke med en gyldig fødselsdato (DDMMÅÅ).";
  return undefined;
}

export function required(value: string, message: string): string | undefined {
  return value.trim() ? undefined : message;
}

export type Errors<K extends string> = Partial<Record<K, string>>;

export function hasErrors<K extends string>(errors: Errors<K>): boolean {
  return Object.values(errors).some(Boolean);
}
