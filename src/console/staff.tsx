import type { Hono } from 'hono';
import { reader, withTransaction } from '../app/context.ts';
import { DomainError, forbidden, notFound } from '../app/errors.ts';
import { appendAudit } from '../store/audit.ts';
import { professionalOfAgency, type ProfessionalRow, professionalsOfAgency, setProfessionalRoles, setProfessionalStatus } from '../store/professionals.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, field, fields, formatDate, hasRole, renderPage } from './context.tsx';
import { Alert, Csrf, H2, Heading, P, TextField } from './layout.tsx';
import { inviteProfessional } from './professionals.ts';
import { isRole, ROLES } from './roles.ts';

type InviteErrors = Partial<Record<'name' | 'email' | 'phone' | 'roles' | 'form', string>>;

function RoleChoices({ c, name, idPrefix, chosen, legend, error }: { c: ConsoleContext; name: string; idPrefix: string; chosen: readonly string[]; legend: string; error?: string | undefined }) {
  const t = c.get('t');
  return (
    <fieldset class="bk-roles" aria-describedby={error ? `${idPrefix}-fout` : undefined}>
      <legend id={`${idPrefix}-legend`}>{legend}</legend>
      {error ? <div class="utrecht-form-field-error-message" id={`${idPrefix}-fout`}>{error}</div> : null}
      {ROLES.map((r) => (
        <div class="bk-choice">
          <input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" name={name} value={r} id={`${idPrefix}-${r}`} checked={chosen.includes(r)} />
          <label class="utrecht-form-label utrecht-form-label--checkbox" for={`${idPrefix}-${r}`}>
            {t.common.roles[r]} <span class="bk-muted">({t.common.roleHints[r]})</span>
          </label>
        </div>
      ))}
    </fieldset>
  );
}

/** Medewerkers: an agency administrator invites professionals, changes their roles, disables them. */
export function staffRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps } = s;

  app.use('/medewerkers/*', async (c, next) => {
    if (!hasRole(c, 'admin')) throw forbidden('not_an_administrator', 'only the agency administrator manages its professionals');
    await next();
  });
  app.use('/medewerkers', async (c, next) => {
    if (!hasRole(c, 'admin')) throw forbidden('not_an_administrator', 'only the agency administrator manages its professionals');
    await next();
  });

  const page = async (c: ConsoleContext, opts: { notice?: { type: 'ok' | 'warning'; text: string }; link?: { name: string; url: string; until: string }; values?: Record<string, string>; roles?: string[]; errors?: InviteErrors; status?: number } = {}) => {
    const t = c.get('t');
    const m = t.staff;
    const { agency, session, professional: me } = c.get('auth');
    const people = await professionalsOfAgency(reader(deps), agency.id);
    const errors = opts.errors ?? {};
    return renderPage(c, {
      title: m.title,
      current: 'staff',
      status: opts.status ?? 200,
      body: (
        <>
          <Heading>{m.title}</Heading>
          {opts.notice ? <Alert type={opts.notice.type}><P>{opts.notice.text}</P></Alert> : null}
          {opts.link ? (
            <Alert type="ok">
              <P>{m.invited(opts.link.name)}</P>
              <P>
                <strong>{m.linkLabel}</strong>
              </P>
              <p class="bk-link-box" id="uitnodigingslink">{opts.link.url}</p>
              <P>{m.linkValidUntil(opts.link.until)}</P>
            </Alert>
          ) : null}
          {errors.form ? <Alert type="error"><P>{errors.form}</P></Alert> : null}

          <H2 id="lijst">{m.list}</H2>
          {people.map((p: ProfessionalRow & { passkeys: number }) => (
            <section class="bk-card" aria-labelledby={`mw-${p.id}`}>
              <h3 class="utrecht-heading-3" id={`mw-${p.id}`}>{p.name}</h3>
              <dl class="bk-dl">
                <dt>{m.email}</dt>
                <dd>{p.email}</dd>
                {p.phone ? (
                  <>
                    <dt>{m.phone}</dt>
                    <dd>{p.phone}</dd>
                  </>
                ) : null}
                <dt>{m.status}</dt>
                <dd>{m.statuses[p.status]}</dd>
                <dt>{m.passkeys}</dt>
                <dd>{p.passkeys}</dd>
              </dl>
              <form method="post" action={`/console/medewerkers/${p.id}/rollen`}>
                <Csrf token={session.csrfToken} />
                <RoleChoices c={c} name="roles" idPrefix={`rol-${p.id}`} chosen={p.roles} legend={m.rolesFor(p.name)} />
                <button type="submit" class="utrecht-button utrecht-button--secondary-action" aria-label={m.saveRolesFor(p.name)}>{m.saveRoles}</button>
              </form>
              <div class="bk-actions">
                {p.id !== me.id ? (
                  <form method="post" action={`/console/medewerkers/${p.id}/${p.status === 'disabled' ? 'inschakelen' : 'uitschakelen'}`}>
                    <Csrf token={session.csrfToken} />
                    <button type="submit" class="utrecht-button utrecht-button--secondary-action" aria-label={p.status === 'disabled' ? m.enableFor(p.name) : m.disableFor(p.name)}>
                      {p.status === 'disabled' ? m.enable : m.disable}
                    </button>
                  </form>
                ) : null}
                {p.status === 'invited' ? (
                  <form method="post" action={`/console/medewerkers/${p.id}/uitnodiging`}>
                    <Csrf token={session.csrfToken} />
                    <button type="submit" class="utrecht-button utrecht-button--secondary-action" aria-label={m.reinviteFor(p.name)}>{m.reinvite}</button>
                  </form>
                ) : null}
              </div>
            </section>
          ))}

          <H2 id="uitnodigen">{m.invite}</H2>
          <P>{m.inviteIntro}</P>
          <form method="post" action="/console/medewerkers/uitnodigen" novalidate>
            <Csrf token={session.csrfToken} />
            <TextField name="name" label={m.name} value={opts.values?.name} error={errors.name} autocomplete="off" required requiredText={t.common.required} />
            <TextField name="email" label={m.email} type="email" value={opts.values?.email} error={errors.email} autocomplete="off" required requiredText={t.common.required} />
            <TextField name="phone" label={m.phone} type="tel" value={opts.values?.phone} error={errors.phone} autocomplete="off" requiredText={t.common.optional} />
            <RoleChoices c={c} name="roles" idPrefix="nieuw-rol" chosen={opts.roles ?? ['registrant']} legend={m.roles} error={errors.roles} />
            <button type="submit" class="utrecht-button utrecht-button--primary-action">{m.inviteButton}</button>
          </form>
        </>
      ),
    });
  };

  /** A professional of the administrator's own agency; any other id is not found. */
  const target = async (c: ConsoleContext) => {
    const p = await professionalOfAgency(reader(deps), c.get('auth').agency.id, c.req.param('id') ?? '');
    if (!p) throw notFound('professional_not_found', 'no such professional in this agency');
    return p;
  };
  const audit = (c: ConsoleContext, action: string, resource: string, outcome = 'ok') => ({
    at: deps.clock.now().toISOString(), agencyId: c.get('auth').agency.id, actor: c.get('auth').professional.id, action, subject: null, resource, outcome, requestId: c.get('requestId') ?? null,
  });

  app.get('/medewerkers', (c) => page(c));

  app.post('/medewerkers/uitnodigen', async (c) => {
    const m = c.get('t').staff;
    const body = await c.req.parseBody({ all: true });
    const values = { name: (field(body, 'name') ?? '').trim(), email: (field(body, 'email') ?? '').trim(), phone: (field(body, 'phone') ?? '').trim() };
    const roles = fields(body, 'roles').filter(isRole);
    try {
      const { professional, link, expiresAt } = await inviteProfessional(deps, {
        agencyId: c.get('auth').agency.id,
        fields: { name: values.name, email: values.email, ...(values.phone ? { phone: values.phone } : {}), roles },
        invitedBy: c.get('auth').professional.id,
        requestId: c.get('requestId') ?? null,
      });
      return page(c, { link: { name: professional.name, url: link, until: formatDate(c, expiresAt, true) } });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const errors: InviteErrors = {};
      if (err.code === 'professional_exists') errors.email = m.exists;
      for (const f of err.fields ?? []) {
        const key = f.path.split('.')[0] as keyof typeof m.errors;
        if (key in m.errors) errors[key] ??= m.errors[key];
      }
      if (Object.keys(errors).length === 0) throw err;
      return page(c, { values, roles, errors, status: 422 });
    }
  });

  app.post('/medewerkers/:id/rollen', async (c) => {
    const m = c.get('t').staff;
    const p = await target(c);
    const roles = [...new Set(fields(await c.req.parseBody({ all: true }), 'roles').filter(isRole))];
    if (roles.length === 0) return page(c, { notice: { type: 'warning', text: m.errors.roles }, status: 422 });
    if (p.id === c.get('auth').professional.id && !roles.includes('admin')) return page(c, { notice: { type: 'warning', text: m.notSelf }, status: 422 });
    await withTransaction(deps, async (tx) => {
      await setProfessionalRoles(tx, p.id, roles);
      await appendAudit(tx, audit(c, 'professional.roles', p.id));
    });
    return page(c, { notice: { type: 'ok', text: m.rolesSaved } });
  });

  for (const [verb, status] of [['uitschakelen', 'disabled'], ['inschakelen', 'active']] as const) {
    app.post(`/medewerkers/:id/${verb}`, async (c) => {
      const m = c.get('t').staff;
      const p = await target(c);
      if (p.id === c.get('auth').professional.id) return page(c, { notice: { type: 'warning', text: m.notSelf }, status: 422 });
      await withTransaction(deps, async (tx) => {
        await setProfessionalStatus(tx, p.id, status, deps.clock.now().toISOString());
        await appendAudit(tx, audit(c, status === 'disabled' ? 'professional.disable' : 'professional.enable', p.id));
      });
      return page(c, { notice: { type: 'ok', text: status === 'disabled' ? m.disabled : m.enabled } });
    });
  }

  app.post('/medewerkers/:id/uitnodiging', async (c) => {
    const p = await target(c);
    if (p.status !== 'invited') throw notFound('invitation_not_possible', 'only a professional who has not enrolled gets a new invitation');
    const { link, expiresAt } = await inviteProfessional(deps, {
      agencyId: p.agencyId,
      fields: { name: p.name, email: p.email, ...(p.phone ? { phone: p.phone } : {}), roles: p.roles },
      invitedBy: c.get('auth').professional.id,
      requestId: c.get('requestId') ?? null,
    });
    return page(c, { link: { name: p.name, url: link, until: formatDate(c, expiresAt, true) } });
  });
}
