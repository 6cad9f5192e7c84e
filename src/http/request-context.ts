import type { Context } from 'hono';
import type { Ctx, Deps } from '../app/context.ts';
import type { AppEnv } from './env.ts';

/** The use-case context of an authenticated request. */
export function ctxOf(c: Context<AppEnv>, deps: Deps): Ctx {
  return { deps, actor: c.get('actor'), requestId: c.get('requestId') };
}
