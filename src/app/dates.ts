/** Calendar arithmetic on UTC dates ("YYYY-MM-DD" birth dates, instants for registrations). */

/** The same time of day `months` later; a day that does not exist rolls over (31 Jan + 1 → 3 Mar). */
export function addMonths(at: Date, months: number): Date {
  const d = new Date(at.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/** The instant a person born on `birthDate` turns `years` (midnight UTC of that birthday). */
export function birthdayAt(birthDate: string, years: number): Date {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + years, m - 1, d));
}

/** Parses a calendar date; false for impossible dates such as 2011-02-30. */
export function isRealDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

export function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}
