import type { Hono } from 'hono';
import { reader } from '../app/context.ts';
import { DomainError } from '../app/errors.ts';
import { getSignal } from '../app/read-signals.ts';
import { registerSignal } from '../app/register-signal.ts';
import { registerSignalSchema, type RegisterSignalInput } from '../app/signal-schemas.ts';
import { registrableKinds } from '../policy/grants.ts';
import type { SignalKind } from '../policy/types.ts';
import { servedDistricts } from '../store/professionals.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, ctxOf, field, formatDate, renderPage } from './context.tsx';
import type { Messages } from './i18n/index.ts';
import { Alert, Csrf, FieldError, H2, Heading, P, TextField } from './layout.tsx';

/** The municipalities of the province of Groningen by CBS code; another code is shown as a code. */
const MUNICIPALITY_NAMES: Record<string, string> = {
  '0014': 'Groningen', '0037': 'Stadskanaal', '0047': 'Veendam', '0765': 'Pekela', '1895': 'Oldambt',
  '1949': 'Westerwolde', '1950': 'Westerkwartier', '1952': 'Midden-Groningen', '1966': 'Het Hogeland', '1969': 'Eemsdelta',
};

type FieldKey = 'bsn' | 'birthDate' | 'municipality' | 'district' | 'kind' | 'name' | 'phone' | 'email' | 'reference' | 'informed' | 'exemption' | 'form';
type Errors = Partial<Record<FieldKey, string>>;

/** What the form holds when shown again: never the BSN. */
interface Values {
  birthDate?: string;
  municipality?: string;
  district?: string;
  kind?: string;
  name?: string;
  phone?: string;
  email?: string;
  reference?: string;
  informed?: string;
  exemption?: string;
}

const municipalityName = (t: Messages, code: string) => MUNICIPALITY_NAMES[code] ?? t.report.municipalityName(code);
/**
 * A birth date as people write it (31-03-2012, 31/3/2012, 31.03.2012) or as ISO (2012-03-31), in
 * ISO; anything else is passed on as typed, for the schema to refuse. A text field, not a date
 * picker: the picker's order of day and month follows the browser's language, not the page's.
 */
export function isoDate(typed: string): string {
  const dmy = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$/.exec(typed);
  return dmy ? `${dmy[3]}-${dmy[2]!.padStart(2, '0')}-${dmy[1]!.padStart(2, '0')}` : typed;
}

export const districtName = (d: string) => d.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

/** The API's problem codes and schema paths, as the field of the form they belong to and its message. */
function errorOf(t: Messages, code: string, maxAge: number): [FieldKey, string] {
  const e = t.report.errors;
  switch (code) {
    case 'invalid_bsn': return ['bsn', e.invalid_bsn];
    case 'invalid_birth_date': return ['birthDate', e.invalid_birth_date];
    case 'subject_too_old': return ['birthDate', e.subject_too_old(maxAge)];
    case 'unknown_district': return ['district', e.unknown_district];
    case 'kind_not_allowed': return ['kind', e.kind_not_allowed];
    case 'not_authorised_to_register': return ['form', e.not_authorised_to_register];
    case 'insufficient_scope': return ['form', e.insufficient_scope];
    default: return ['form', t.common.error('-')];
  }
}

function issueField(path: readonly PropertyKey[]): FieldKey {
  const [first, second] = path.map(String);
  if (first === 'professional') return second === 'email' ? 'email' : second === 'name' ? 'name' : 'phone';
  if (first === 'informed') return second === 'exemption' ? 'exemption' : 'informed';
  if (first === 'birthDate' || first === 'municipality' || first === 'district' || first === 'kind' || first === 'reference' || first === 'bsn') return first;
  return 'form';
}

/** Melden: the registration form, posted (never a GET: the BSN stays out of URLs), then a confirmation. */
export function reportRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps } = s;

  const form = async (c: ConsoleContext, values: Values, errors: Errors, status = 200) => {
    const t = c.get('t');
    const r = t.report;
    const { actor, professional, agency } = c.get('auth');
    const kinds = registrableKinds(deps.policy, actor.agencyType);
    if (!actor.scopes.has('signals:write') || kinds.length === 0) {
      const [, message] = errorOf(t, kinds.length === 0 ? 'not_authorised_to_register' : 'insufficient_scope', 0);
      return renderPage(c, { title: r.title, current: 'report', status: status === 200 ? 200 : status, body: <><Heading>{r.title}</Heading><Alert type="warning"><P>{message}</P></Alert></> });
    }
    const served = await servedDistricts(reader(deps));
    const municipalities = [...new Set([agency.municipality, ...served.keys()])].sort();
    const chosenMunicipality = values.municipality ?? agency.municipality;
    const kind = values.kind ?? kinds[0]!;
    const informed = values.informed;
    const exemptions = deps.policy.informing.exemptions;
    const summary = (Object.entries(errors) as Array<[FieldKey, string]>).filter(([, m]) => m);
    const bsnError = errors.bsn ?? (summary.length > 0 ? r.bsnAgain : undefined);
    return renderPage(c, {
      title: r.title,
      current: 'report',
      status,
      body: (
        <>
          <Heading>{r.title}</Heading>
          <P lead>{r.intro}</P>
          {summary.length > 0 ? (
            <Alert type="error" id="fouten">
              <P>{r.errorSummary}</P>
              <ul class="utrecht-unordered-list">
                {summary.map(([key, message]) => (
                  <li class="utrecht-unordered-list__item">
                    {key === 'form' ? message : <a class="utrecht-link" href={`#veld-${key}`}>{message}</a>}
                  </li>
                ))}
              </ul>
            </Alert>
          ) : null}
          <form method="post" action="/console/melden" novalidate>
            <Csrf token={c.get('auth').session.csrfToken} />
            <fieldset class="bk-fieldset">
              <legend>{r.youngPerson}</legend>
              <TextField name="bsn" label={r.bsn} hint={r.bsnHint} error={bsnError} inputmode="numeric" autocomplete="off" required requiredText={t.common.required} />
              <TextField name="birthDate" label={r.birthDate} hint={r.birthDateHint} value={values.birthDate} error={errors.birthDate} inputmode="numeric" autocomplete="off" required requiredText={t.common.required} />
              <div class={`utrecht-form-field${errors.municipality ? ' utrecht-form-field--invalid' : ''}`}>
                <label class="utrecht-form-label" for="veld-municipality">{r.municipality}</label>
                <FieldError id="veld-municipality-fout" error={errors.municipality} />
                <div>
                  <select class="utrecht-select utrecht-select--html-select" id="veld-municipality" name="municipality" aria-describedby={errors.municipality ? 'veld-municipality-fout' : undefined}>
                    {municipalities.map((m) => (
                      <option value={m} selected={m === chosenMunicipality}>{`${municipalityName(t, m)} (${m})`}</option>
                    ))}
                  </select>
                </div>
              </div>
              <div class={`utrecht-form-field${errors.district ? ' utrecht-form-field--invalid' : ''}`}>
                <label class="utrecht-form-label" for="veld-district">{r.district}</label>
                <div class="utrecht-form-field-description" id="veld-district-hint">{r.districtHint}</div>
                <FieldError id="veld-district-fout" error={errors.district} />
                <div>
                  <select
                    class="utrecht-select utrecht-select--html-select"
                    id="veld-district"
                    name="district"
                    aria-describedby={errors.district ? 'veld-district-hint veld-district-fout' : 'veld-district-hint'}
                    aria-invalid={errors.district ? 'true' : undefined}
                  >
                    <option value="">{r.districtUnknown}</option>
                    {[...served].map(([m, districts]) => (
                      <optgroup label={municipalityName(t, m)}>
                        {districts.map((d) => (
                          <option value={`${m}:${d}`} selected={values.district === `${m}:${d}`}>{`${districtName(d)} (${municipalityName(t, m)})`}</option>
                        ))}
                      </optgroup>
                    ))}
                  </select>
                </div>
              </div>
            </fieldset>

            <fieldset class="bk-fieldset" aria-describedby={errors.kind ? 'veld-kind-fout' : undefined}>
              <legend id="veld-kind">{r.kind}</legend>
              <FieldError id="veld-kind-fout" error={errors.kind} />
              {kinds.length === 1 ? (
                <>
                  <input type="hidden" name="kind" value={kinds[0]} />
                  <P>
                    <strong>{r.kinds[kinds[0]!]}</strong>: {r.kindHints[kinds[0]!]}
                  </P>
                </>
              ) : (
                kinds.map((k: SignalKind) => (
                  <div class="bk-choice">
                    <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name="kind" id={`soort-${k}`} value={k} checked={kind === k} aria-describedby={`soort-${k}-hint`} />
                    <div>
                      <label class="utrecht-form-label utrecht-form-label--radio" for={`soort-${k}`}>{r.kinds[k]}</label>
                      <div class="utrecht-form-field-description" id={`soort-${k}-hint`}>{r.kindHints[k]}</div>
                    </div>
                  </div>
                ))
              )}
            </fieldset>

            <fieldset class="bk-fieldset">
              <legend>{r.contact}</legend>
              <P>{r.contactHint}</P>
              <TextField name="name" label={r.name} value={values.name ?? professional.name} error={errors.name} autocomplete="name" required requiredText={t.common.required} />
              <TextField name="phone" label={r.phone} type="tel" value={values.phone ?? professional.phone ?? ''} error={errors.phone} autocomplete="tel" />
              <TextField name="email" label={r.email} type="email" value={values.email ?? professional.email} error={errors.email} autocomplete="email" />
              <TextField name="reference" label={r.reference} hint={r.referenceHint} value={values.reference} error={errors.reference} requiredText={t.common.optional} />
            </fieldset>

            <fieldset class="bk-fieldset" aria-describedby={errors.informed ? 'informeren-uitleg veld-informed-fout' : 'informeren-uitleg'}>
              <legend id="veld-informed">{r.informing}</legend>
              <P>
                <span id="informeren-uitleg">{r.informingIntro}</span>
              </P>
              <FieldError id="veld-informed-fout" error={errors.informed} />
              <div class="bk-choice">
                <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name="informed" id="informed-informed" value="informed" checked={informed === 'informed'} />
                <label class="utrecht-form-label utrecht-form-label--radio" for="informed-informed">{r.informed}</label>
              </div>
              <div class="bk-choice">
                <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name="informed" id="informed-pending" value="pending" checked={informed === 'pending'} aria-describedby="informed-pending-hint" />
                <div>
                  <label class="utrecht-form-label utrecht-form-label--radio" for="informed-pending">{r.pending}</label>
                  <div class="utrecht-form-field-description" id="informed-pending-hint">{r.pendingHint(deps.policy.informing.overdueDays)}</div>
                </div>
              </div>
              {exemptions.length > 0 ? (
                <>
                  <div class="bk-choice">
                    <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name="informed" id="informed-exempt" value="exempt" checked={informed === 'exempt'} />
                    <label class="utrecht-form-label utrecht-form-label--radio" for="informed-exempt">{r.exempt}</label>
                  </div>
                  <fieldset class="bk-fieldset bk-nested" aria-describedby={errors.exemption ? 'veld-exemption-fout' : undefined}>
                    <legend class="utrecht-form-label" id="veld-exemption">{r.exemptWhy}</legend>
                    <FieldError id="veld-exemption-fout" error={errors.exemption} />
                    {exemptions.map((e) => (
                      <div class="bk-choice">
                        <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name="exemption" id={`exemption-${e}`} value={e} checked={values.exemption === e} />
                        <label class="utrecht-form-label utrecht-form-label--radio" for={`exemption-${e}`}>{r.exemptions[e]}</label>
                      </div>
                    ))}
                  </fieldset>
                </>
              ) : null}
            </fieldset>
            <div class="bk-actions">
              <button type="submit" class="utrecht-button utrecht-button--primary-action">{r.submit}</button>
            </div>
          </form>
        </>
      ),
    });
  };

  app.get('/melden', (c) => form(c, {}, {}));

  app.post('/melden', async (c) => {
    const t = c.get('t');
    const body = await c.req.parseBody({ all: true });
    const get = (n: string) => (field(body, n) ?? '').trim();
    const values: Values = {
      birthDate: get('birthDate'), municipality: get('municipality'), district: get('district'), kind: get('kind'),
      name: get('name'), phone: get('phone'), email: get('email'), reference: get('reference'), informed: get('informed'), exemption: get('exemption'),
    };
    const bsn = get('bsn').replace(/[\s.-]/g, '');
    const errors: Errors = {};
    if (!/^\d{9}$/.test(bsn)) errors.bsn = t.report.errors.bsn;
    const [districtMunicipality, district] = values.district ? values.district.split(':', 2) : [undefined, undefined];
    if (district !== undefined && districtMunicipality !== values.municipality) errors.district = t.report.errors.unknown_district;
    // Choosing a reason is choosing not to tell, also when the "not" itself was not ticked.
    if (!values.informed && values.exemption) values.informed = 'exempt';
    const informed = values.informed === 'exempt' ? { status: 'exempt', exemption: values.exemption || undefined } : values.informed ? { status: values.informed } : undefined;
    const candidate = {
      bsn,
      birthDate: isoDate(values.birthDate ?? ''),
      municipality: values.municipality,
      ...(district ? { district } : {}),
      ...(values.kind ? { kind: values.kind } : {}),
      ...(values.reference ? { reference: values.reference } : {}),
      professional: { name: values.name, ...(values.phone ? { phone: values.phone } : {}), ...(values.email ? { email: values.email } : {}) },
      informed,
    };
    const parsed = registerSignalSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issueField(issue.path);
        const messages = t.report.errors as Record<string, unknown>;
        const message = key === 'form' ? t.common.error('-') : (messages[key] as string | undefined) ?? t.report.errors.informed;
        errors[key] ??= message;
      }
    }
    if (!parsed.success || Object.keys(errors).length > 0) return form(c, values, errors, 422);
    try {
      const result = await registerSignal({ ctx: ctxOf(c, deps), input: parsed.data as RegisterSignalInput });
      const notApplied = result.warnings.map((w) => w.field).join(',');
      const query = new URLSearchParams({ uitkomst: result.outcome, ...(notApplied ? { niet: notApplied } : {}) });
      return c.redirect(`/console/melden/bevestiging/${result.signal.id}?${query}`, 303);
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind === 'not_found') throw err;
      const [key, message] = errorOf(t, err.code, deps.policy.subjects.maxAgeYears);
      return form(c, values, { [key]: message }, 422);
    }
  });

  app.get('/melden/bevestiging/:id', async (c) => {
    const t = c.get('t');
    const r = t.report;
    const signal = await getSignal({ ctx: ctxOf(c, deps), id: c.req.param('id') });
    const outcome = c.req.query('uitkomst') === 'existing' ? 'existing' : 'created';
    const fieldNames = r.fields as Record<string, string>;
    const notApplied = (c.req.query('niet') ?? '').split(',').filter((f) => f in fieldNames);
    const informed = signal.informed.status === 'exempt' ? r.exemptBecause(r.exemptions[signal.informed.exemption]) : signal.informed.status === 'informed' ? r.informed : r.pending;
    return renderPage(c, {
      title: r.confirmTitle,
      current: 'report',
      body: (
        <>
          <Heading>{r.confirmTitle}</Heading>
          <Alert type={outcome === 'created' ? 'ok' : 'info'}>
            <P>{outcome === 'created' ? r.created : r.existing}</P>
          </Alert>
          {notApplied.length > 0 ? (
            <Alert type="warning">
              <P>{r.notApplied}</P>
              <ul class="utrecht-unordered-list">{notApplied.map((f) => <li class="utrecht-unordered-list__item">{fieldNames[f]}</li>)}</ul>
            </Alert>
          ) : null}
          <H2>{r.summary}</H2>
          <dl class="bk-dl">
            <dt>{r.kind}</dt>
            <dd>{r.kinds[signal.kind]}</dd>
            <dt>{r.municipality}</dt>
            <dd>{municipalityName(t, signal.municipality)}</dd>
            <dt>{r.district}</dt>
            <dd>{signal.district ? districtName(signal.district) : r.districtUnknown}</dd>
            <dt>{r.informing}</dt>
            <dd>{informed}</dd>
            {signal.reference ? (
              <>
                <dt>{r.reference}</dt>
                <dd>{signal.reference}</dd>
              </>
            ) : null}
            <dt>{r.registeredAt}</dt>
            <dd>{formatDate(c, signal.registeredAt)}</dd>
            <dt>{r.expiresAt}</dt>
            <dd>{formatDate(c, signal.expiresAt)}</dd>
          </dl>
          <P>{r.whatNext}</P>
          <P>
            <a class="utrecht-link" href="/console/melden">{r.another}</a>
          </P>
        </>
      ),
    });
  });
}
