import type { NoticeView, PartyEntry } from '../app/notice-schemas.ts';
import type { ProfessionalInput } from '../app/signal-schemas.ts';
import { type ConsoleContext, formatDate } from './context.tsx';
import { Csrf } from './layout.tsx';

/**
 * One notice written for a person: what happened, who else is involved and how to reach them, who
 * coordinates. Everything shown comes from the notice body, the projection the policy decided for
 * this recipient; nothing is looked up about another agency (the own agency's name comes from the
 * session, for a case table's attendees).
 */
export function NoticeCard({ c, notice, csrf }: { c: ConsoleContext; notice: NoticeView; csrf: string }) {
  const t = c.get('t');
  const m = t.inbox;
  const headingId = `bericht-${notice.id}`;
  const unread = notice.acknowledgedAt === null;
  const partiesLabel = notice.type.endsWith('party_left') ? m.stillInvolved : notice.signalId ? m.alsoInvolved : m.involved;
  return (
    <article class={`bk-card bk-notice${unread ? ' bk-notice--unread' : ''}`} aria-labelledby={headingId}>
      <h3 class="utrecht-heading-3" id={headingId}>{m.sentences[notice.type]}</h3>
      <p class="utrecht-paragraph bk-notice__meta">
        {`${m.received}: ${formatDate(c, notice.createdAt, true)}`}
        {notice.acknowledgedAt ? ` · ${m.readAt}: ${formatDate(c, notice.acknowledgedAt, true)}` : ''}
      </p>
      {notice.parties.length > 0 ? (
        <>
          <p class="utrecht-paragraph">
            <strong>{`${partiesLabel}:`}</strong>
          </p>
          <ul class="bk-parties">
            {notice.parties.map((p) => (
              <Party c={c} party={p} />
            ))}
          </ul>
        </>
      ) : null}
      {notice.coordinator ? (
        <p class="utrecht-paragraph">
          <strong>{`${m.coordinator}:`}</strong> {notice.coordinator.agency.name}
          {notice.coordinator.contact ? (
            <>
              {' — '}
              <Contact contact={notice.coordinator.contact} />
            </>
          ) : (
            ` (${m.notClaimed})`
          )}
        </p>
      ) : null}
      {notice.caseTable ? <CaseTable c={c} notice={notice} caseTable={notice.caseTable} /> : null}
      {notice.signalId && notice.type !== 'subject.erased' ? (
        <p class="utrecht-paragraph">
          <strong>{`${m.yourSignal}:`}</strong>{' '}
          <a class="utrecht-link" href={`/console/meldingen/${notice.signalId}`}>{m.yourSignalLink(notice.reference)}</a>
        </p>
      ) : null}
      <details>
        <summary>{m.why}</summary>
        <p class="utrecht-paragraph">{m.policy(notice.policy.id, notice.policy.version)}</p>
        {notice.policy.rules.length > 0 ? <p class="utrecht-paragraph">{`${m.rules}: ${notice.policy.rules.join(', ')}`}</p> : null}
      </details>
      {unread ? (
        <form method="post" action={`/console/berichten/${notice.id}/gelezen`}>
          <Csrf token={csrf} />
          <button type="submit" class="utrecht-button utrecht-button--secondary-action" aria-describedby={headingId}>
            {m.acknowledge}
          </button>
        </form>
      ) : null}
    </article>
  );
}

function Party({ c, party }: { c: ConsoleContext; party: PartyEntry }) {
  const m = c.get('t').inbox;
  if (party.view === 'type') return <li>{m.typeOnly(m.agencyTypes[party.agencyType])}</li>;
  return (
    <li>
      <strong>{party.agency.name}</strong>
      {` ${m.kinds[party.kind]} — `}
      <Contact contact={party.contact} />
      {` (${m.since(formatDate(c, party.since))})`}
    </li>
  );
}

/** A professional as others reach them: name, telephone and e-mail, the latter two as links. */
export function Contact({ contact }: { contact: ProfessionalInput }) {
  return (
    <>
      {contact.name}
      {contact.phone ? (
        <>
          {', '}
          <a class="utrecht-link" href={`tel:${contact.phone.replace(/[^+0-9]/g, '')}`}>{contact.phone}</a>
        </>
      ) : null}
      {contact.email ? (
        <>
          {', '}
          <a class="utrecht-link" href={`mailto:${contact.email}`}>{contact.email}</a>
        </>
      ) : null}
    </>
  );
}

function CaseTable({ c, notice, caseTable }: { c: ConsoleContext; notice: NoticeView; caseTable: NonNullable<NoticeView['caseTable']> }) {
  const m = c.get('t').inbox;
  // Names only of agencies the notice itself shows with contact details, the coordinator, or oneself.
  const names = new Map<string, string>([[c.get('auth').agency.id, c.get('auth').agency.name]]);
  for (const p of notice.parties) if (p.view === 'contact') names.set(p.agency.id, p.agency.name);
  if (notice.coordinator) names.set(notice.coordinator.agency.id, notice.coordinator.agency.name);
  const attended = (caseTable.attendedBy ?? []).map((id) => names.get(id)).filter((n): n is string => n !== undefined);
  const lead = caseTable.leadAgencyId ? names.get(caseTable.leadAgencyId) : undefined;
  return (
    <>
      <p class="utrecht-paragraph">
        <strong>{`${m.caseTable}:`}</strong>
      </p>
      <dl class="bk-dl">
        <dt>{m.scheduledFor}</dt>
        <dd>{formatDate(c, caseTable.scheduledFor, true)}</dd>
        {notice.type === 'case_table.outcome' ? (
          <>
            <dt>{m.held}</dt>
            <dd>{caseTable.held === null ? m.heldUnknown : caseTable.held ? m.heldYes : m.heldNo}</dd>
            <dt>{m.attendedBy}</dt>
            <dd>{attended.length > 0 ? attended.join(', ') : m.nobody}</dd>
            {lead ? (
              <>
                <dt>{m.lead}</dt>
                <dd>{lead}</dd>
              </>
            ) : null}
            {caseTable.nextReviewOn ? (
              <>
                <dt>{m.nextReview}</dt>
                <dd>{formatDate(c, `${caseTable.nextReviewOn}T12:00:00Z`)}</dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
    </>
  );
}
