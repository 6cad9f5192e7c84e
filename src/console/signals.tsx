import type { Hono } from 'hono';
import { DomainError } from '../app/errors.ts';
import { getSignal, listSignals } from '../app/read-signals.ts';
import { informedSchema, type SignalView, withdrawSignalSchema } from '../app/signal-schemas.ts';
import { updateSignal, withdrawSignal } from '../app/update-signal.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, ctxOf, field, formatDate, renderPage } from './context.tsx';
import { Alert, Csrf, FieldError, H2, Heading, P } from './layout.tsx';
import { Contact } from './notice-view.tsx';
import { districtName } from './report.tsx';

const PAGE = 20;
const STATUSES = ['active', 'ended', 'all'] as const;
type StatusFilter = (typeof STATUSES)[number];
const REASONS = withdrawSignalSchema.shape.reason.options;

type FieldKey = 'informed' | 'exemption' | 'reason' | 'form';
type Errors = Partial<Record<FieldKey, string>>;

/** What a form held when it comes back with an error. */
interface Values {
  informed?: string;
  exemption?: string;
  reason?: string;
}

/** A radio button with its label (id: name-value). */
function Radio({ name, value, checked, label }: { name: string; value: string; checked: boolean; label: string }) {
  return (
    <div class="bk-choice">
      <input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" name={name} id={`${name}-${value}`} value={value} checked={checked} />
      <label class="utrecht-form-label utrecht-form-label--radio" for={`${name}-${value}`}>{label}</label>
    </div>
  );
}

/** Mijn meldingen: the agency's own signals; one signal's page to update the informing duty or withdraw it. */
export function signalsRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps } = s;

  const title = (c: ConsoleContext, signal: SignalView) => {
    const m = c.get('t').signals;
    const kind = c.get('t').report.kinds[signal.kind];
    return signal.reference ? m.signalTitle(kind, signal.reference) : m.signalTitleDated(kind, formatDate(c, signal.registeredAt));
  };

  /** The informing state in words, with the reminder when it is overdue (policy: informing.overdueDays). */
  const informingText = (c: ConsoleContext, signal: SignalView) => {
    const m = c.get('t').signals;
    const i = signal.informed;
    const text = i.status === 'exempt' ? m.informingStates.exempt(m.exemptions[i.exemption]) : m.informingStates[i.status];
    const days = deps.policy.informing.overdueDays;
    const overdue = i.status === 'pending' && signal.status === 'active' && deps.clock.now().getTime() - Date.parse(signal.registeredAt) > days * 86_400_000;
    return overdue ? `${text}. ${m.informingOverdue(days)}` : text;
  };

  const Summary = ({ c, signal }: { c: ConsoleContext; signal: SignalView }) => {
    const m = c.get('t').signals;
    return (
      <dl class="bk-dl">
        <dt>{m.status}</dt>
        <dd>{signal.status === 'active' ? m.stateActive : `${m.stateEnded} (${m.endReasons[signal.endReason ?? 'other']})`}</dd>
        <dt>{m.registeredAt}</dt>
        <dd>{formatDate(c, signal.registeredAt)}</dd>
        {signal.status === 'active' ? (
          <>
            <dt>{m.expiresAt}</dt>
            <dd>{formatDate(c, signal.expiresAt)}</dd>
          </>
        ) : (
          <>
            <dt>{m.endedAt}</dt>
            <dd>{formatDate(c, signal.endedAt ?? signal.expiresAt)}</dd>
          </>
        )}
        <dt>{m.district}</dt>
        <dd>{signal.district ? districtName(signal.district) : m.districtUnknown}</dd>
        <dt>{m.informing}</dt>
        <dd>{informingText(c, signal)}</dd>
        <dt>{m.registeredBy}</dt>
        <dd>
          <Contact contact={signal.professional} />
        </dd>
      </dl>
    );
  };

  app.get('/meldingen', async (c) => {
    const t = c.get('t');
    const m = t.signals;
    const { actor } = c.get('auth');
    if (!actor.scopes.has('signals:read')) {
      return renderPage(c, { title: m.title, current: 'mySignals', body: <><Heading>{m.title}</Heading><Alert type="warning"><P>{m.noReadRole}</P></Alert></> });
    }
    const asked = c.req.query('status');
    const status: StatusFilter = (STATUSES as readonly string[]).includes(asked ?? '') ? (asked as StatusFilter) : 'active';
    const cursor = c.req.query('cursor') || undefined;
    const ctx = ctxOf(c, deps);
    const list = (from: string | undefined) => listSignals({ ctx, query: { limit: PAGE, ...(status === 'all' ? {} : { status }), ...(from ? { cursor: from } : {}) } });
    let restarted = false;
    let page: Awaited<ReturnType<typeof list>>;
    try {
      page = await list(cursor);
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'invalid_cursor') throw err;
      restarted = true;
      page = await list(undefined);
    }
    return renderPage(c, {
      title: m.title,
      current: 'mySignals',
      body: (
        <>
          <Heading>{m.title}</Heading>
          <P lead>{m.intro}</P>
          {restarted ? <Alert type="warning"><P>{m.badCursor}</P></Alert> : null}
          <form method="get" action="/console/meldingen" class="bk-filter">
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="filter-status">{m.filterLegend}</label>
              <div>
                <select class="utrecht-select utrecht-select--html-select" id="filter-status" name="status">
                  {STATUSES.map((x) => (
                    <option value={x} selected={x === status}>{m.statuses[x]}</option>
                  ))}
                </select>
              </div>
            </div>
            <button type="submit" class="utrecht-button utrecht-button--secondary-action">{m.filter}</button>
          </form>
          {page.items.length === 0 ? <P>{m.none}</P> : null}
          {page.items.map((signal) => (
            <section class="bk-card" aria-labelledby={`melding-${signal.id}`}>
              <h2 class="utrecht-heading-3" id={`melding-${signal.id}`}>
                <a class="utrecht-link" href={`/console/meldingen/${signal.id}`}>{title(c, signal)}</a>
              </h2>
              <Summary c={c} signal={signal} />
            </section>
          ))}
          <p class="utrecht-paragraph bk-pager">
            {page.next ? <a class="utrecht-link" href={`/console/meldingen?status=${status}&cursor=${encodeURIComponent(page.next)}`}>{m.nextPage}</a> : null}
            {cursor && !restarted ? <a class="utrecht-link" href={`/console/meldingen?status=${status}`}>{m.firstPage}</a> : null}
          </p>
        </>
      ),
    });
  });

  /** One signal with, while it is active and the professional may change it, the two forms. */
  const detail = async (c: ConsoleContext, opts: { values?: Values; errors?: Errors; status?: number; done?: string } = {}) => {
    const t = c.get('t');
    const m = t.signals;
    const { actor, session } = c.get('auth');
    const signal = await getSignal({ ctx: ctxOf(c, deps), id: c.req.param('id') ?? '' });
    const errors = opts.errors ?? {};
    const values = opts.values ?? {};
    const summary = (Object.entries(errors) as Array<[FieldKey, string]>).filter(([, e]) => e);
    const canWrite = actor.scopes.has('signals:write');
    const informed = values.informed ?? signal.informed.status;
    const exemption = values.exemption ?? (signal.informed.status === 'exempt' ? signal.informed.exemption : undefined);
    const done = opts.done === 'informeren' ? m.saved : opts.done === 'ingetrokken' ? m.withdrawn : null;
    const heading = title(c, signal);
    return renderPage(c, {
      title: heading,
      current: 'mySignals',
      status: opts.status ?? 200,
      body: (
        <div class="bk-desk">
          <Heading>{heading}</Heading>
          {done ? <Alert type="ok"><P>{done}</P></Alert> : null}
          {summary.length > 0 ? (
            <Alert type="error" id="fouten">
              <P>{m.errorSummary}</P>
              <ul class="utrecht-unordered-list">
                {summary.map(([key, message]) => (
                  <li class="utrecht-unordered-list__item">{key === 'form' ? message : <a class="utrecht-link" href={`#veld-${key}`}>{message}</a>}</li>
                ))}
              </ul>
            </Alert>
          ) : null}
          <Summary c={c} signal={signal} />

          {signal.status === 'active' && !canWrite ? <Alert type="info"><P>{m.noWriteRole}</P></Alert> : null}
          {signal.status === 'active' && canWrite ? (
            <>
              <H2 id="informeren">{m.updateInforming}</H2>
              <P>{m.updateInformingIntro}</P>
              <form method="post" action={`/console/meldingen/${signal.id}/informeren`} novalidate>
                <Csrf token={session.csrfToken} />
                <fieldset class="bk-fieldset" aria-describedby={errors.informed ? 'veld-informed-fout' : undefined}>
                  <legend id="veld-informed">{m.informingLegend}</legend>
                  <FieldError id="veld-informed-fout" error={errors.informed} />
                  {(['informed', 'pending', 'exempt'] as const).map((x) => (
                    <Radio name="informed" value={x} checked={informed === x} label={m[x]} />
                  ))}
                  <fieldset class="bk-fieldset bk-nested" aria-describedby={errors.exemption ? 'veld-exemption-fout' : undefined}>
                    <legend class="utrecht-form-label" id="veld-exemption">{m.exemptionLegend}</legend>
                    <FieldError id="veld-exemption-fout" error={errors.exemption} />
                    {deps.policy.informing.exemptions.map((e) => (
                      <Radio name="exemption" value={e} checked={exemption === e} label={m.exemptions[e]} />
                    ))}
                  </fieldset>
                </fieldset>
                <button type="submit" class="utrecht-button utrecht-button--primary-action">{m.save}</button>
              </form>

              <H2 id="intrekken">{m.withdraw}</H2>
              <P>{m.withdrawIntro}</P>
              <form method="post" action={`/console/meldingen/${signal.id}/intrekken`} novalidate>
                <Csrf token={session.csrfToken} />
                <fieldset class="bk-fieldset" aria-describedby={errors.reason ? 'veld-reason-fout' : undefined}>
                  <legend id="veld-reason">{m.reasonLegend}</legend>
                  <FieldError id="veld-reason-fout" error={errors.reason} />
                  {REASONS.map((r) => (
                    <Radio name="reason" value={r} checked={values.reason === r} label={m.reasons[r]} />
                  ))}
                </fieldset>
                <button type="submit" class="utrecht-button utrecht-button--secondary-action">{m.withdrawNext}</button>
              </form>
            </>
          ) : null}
          <P>
            <a class="utrecht-link" href="/console/meldingen">{m.back}</a>
          </P>
        </div>
      ),
    });
  };

  app.get('/meldingen/:id', (c) => detail(c, { done: c.req.query('gedaan') }));

  app.post('/meldingen/:id/informeren', async (c) => {
    const m = c.get('t').signals;
    const body = await c.req.parseBody({ all: true });
    const values: Values = { informed: field(body, 'informed') ?? '', exemption: field(body, 'exemption') ?? '' };
    const candidate = values.informed === 'exempt' ? { status: 'exempt', ...(values.exemption ? { exemption: values.exemption } : {}) } : { status: values.informed };
    const parsed = informedSchema.safeParse(candidate);
    if (!parsed.success) {
      const errors: Errors = values.informed === 'exempt' ? { exemption: m.errors.exemption } : { informed: m.errors.informed };
      return detail(c, { values, errors, status: 422 });
    }
    try {
      await updateSignal({ ctx: ctxOf(c, deps), id: c.req.param('id'), input: { informed: parsed.data } });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'signal_not_active') return detail(c, { errors: { form: m.errors.signal_not_active }, status: 409 });
      throw err;
    }
    return c.redirect(`/console/meldingen/${c.req.param('id')}?gedaan=informeren`, 303);
  });

  // Withdrawing takes two steps: the reason, then a confirmation that says what it does.
  app.post('/meldingen/:id/intrekken', async (c) => {
    const t = c.get('t');
    const m = t.signals;
    const body = await c.req.parseBody({ all: true });
    const reason = withdrawSignalSchema.shape.reason.safeParse(field(body, 'reason'));
    if (!reason.success) return detail(c, { errors: { reason: m.errors.reason }, status: 422 });
    const id = c.req.param('id');
    if (field(body, 'bevestigd') !== 'ja') {
      const signal = await getSignal({ ctx: ctxOf(c, deps), id });
      const { session } = c.get('auth');
      return renderPage(c, {
        title: m.confirmTitle,
        current: 'mySignals',
        body: (
          <>
            <Heading>{m.confirmTitle}</Heading>
            <div class="bk-confirm">
              <P>
                <strong>{title(c, signal)}</strong>
              </P>
              <P>{m.confirmText(m.endReasons[reason.data])}</P>
              <form method="post" action={`/console/meldingen/${signal.id}/intrekken`}>
                <Csrf token={session.csrfToken} />
                <input type="hidden" name="reason" value={reason.data} />
                <input type="hidden" name="bevestigd" value="ja" />
                <div class="bk-actions">
                  <button type="submit" class="utrecht-button utrecht-button--primary-action">{m.confirm}</button>
                  <a class="utrecht-link" href={`/console/meldingen/${signal.id}`}>{m.cancel}</a>
                </div>
              </form>
            </div>
          </>
        ),
      });
    }
    await withdrawSignal({ ctx: ctxOf(c, deps), id, input: { reason: reason.data } });
    return c.redirect(`/console/meldingen/${id}?gedaan=ingetrokken`, 303);
  });
}
