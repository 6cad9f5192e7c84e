import type { Hono } from 'hono';
import { DomainError } from '../app/errors.ts';
import type { NoticeView } from '../app/notice-schemas.ts';
import { acknowledgeNotice, listNotices } from '../app/notices.ts';
import { type ConsoleContext, type ConsoleEnv, type ConsoleServices, ctxOf, renderPage } from './context.tsx';
import { Alert, H2, Heading, P } from './layout.tsx';
import { NoticeCard } from './notice-view.tsx';

const PAGE = 20;
type Page = { items: NoticeView[]; next: string | null };

/** Berichten: the agency's inbox, unread notices first, each acknowledged on its own. */
export function inboxRoutes(app: Hono<ConsoleEnv>, s: ConsoleServices): void {
  const { deps } = s;

  /** Both halves of the inbox, each paged by the API's own cursor; a cursor that is not ours starts over. */
  const pages = async (c: ConsoleContext, unreadCursor: string | undefined, readCursor: string | undefined): Promise<{ unread: Page; read: Page; restarted: boolean }> => {
    const ctx = ctxOf(c, deps);
    const load = async (u: string | undefined, r: string | undefined) => ({
      unread: await listNotices({ ctx, query: { limit: PAGE, unacknowledged: 'true', ...(u ? { cursor: u } : {}) } }),
      read: await listNotices({ ctx, query: { limit: PAGE, ...(r ? { cursor: r } : {}) }, acknowledgedOnly: true }),
    });
    try {
      return { ...(await load(unreadCursor, readCursor)), restarted: false };
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'invalid_cursor') throw err;
      return { ...(await load(undefined, undefined)), restarted: true };
    }
  };

  app.get('/berichten', async (c) => {
    const t = c.get('t');
    const m = t.inbox;
    const { actor, session } = c.get('auth');
    if (!actor.scopes.has('notices:read')) {
      return renderPage(c, { title: m.title, current: 'inbox', body: <><Heading>{m.title}</Heading><Alert type="warning"><P>{m.noReadRole}</P></Alert></> });
    }
    const unreadCursor = c.req.query('nieuw') || undefined;
    const readCursor = c.req.query('gelezen') || undefined;
    const { unread, read, restarted } = await pages(c, unreadCursor, readCursor);
    const link = (q: Record<string, string | null | undefined>) => {
      const params = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
      return params.size > 0 ? `/console/berichten?${params}` : '/console/berichten';
    };
    const paged = !restarted && (unreadCursor || readCursor);
    return renderPage(c, {
      title: m.title,
      current: 'inbox',
      body: (
        <div class="bk-desk">
          <Heading>{m.title}</Heading>
          <P lead>{m.intro}</P>
          {c.req.query('gedaan') === 'gelezen' ? <Alert type="ok"><P>{m.acknowledged}</P></Alert> : null}
          {restarted ? <Alert type="warning"><P>{m.badCursor}</P></Alert> : null}

          <section aria-labelledby="nieuw">
            <H2 id="nieuw">{m.unreadHeading}</H2>
            {unread.items.length === 0 ? <P>{m.noneUnread}</P> : unread.items.map((n) => <NoticeCard c={c} notice={n} csrf={session.csrfToken} />)}
            {unread.next ? (
              <p class="utrecht-paragraph bk-pager">
                <a class="utrecht-link" href={link({ nieuw: unread.next, gelezen: restarted ? null : readCursor })}>{`${m.more} (${m.unreadHeading.toLowerCase()})`}</a>
              </p>
            ) : null}
          </section>

          <section aria-labelledby="gelezen">
            <H2 id="gelezen">{m.readHeading}</H2>
            {read.items.length === 0 ? <P>{m.noneRead}</P> : read.items.map((n) => <NoticeCard c={c} notice={n} csrf={session.csrfToken} />)}
            {read.next ? (
              <p class="utrecht-paragraph bk-pager">
                <a class="utrecht-link" href={link({ nieuw: restarted ? null : unreadCursor, gelezen: read.next })}>{`${m.more} (${m.readHeading.toLowerCase()})`}</a>
              </p>
            ) : null}
          </section>
          {paged ? (
            <p class="utrecht-paragraph bk-pager">
              <a class="utrecht-link" href="/console/berichten">{m.firstPage}</a>
            </p>
          ) : null}
        </div>
      ),
    });
  });

  app.post('/berichten/:id/gelezen', async (c) => {
    await acknowledgeNotice({ ctx: ctxOf(c, deps), id: c.req.param('id') });
    return c.redirect('/console/berichten?gedaan=gelezen', 303);
  });
}
