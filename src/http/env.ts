import type { AgencyActor } from '../app/context.ts';

/** Per-request values set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    actor: AgencyActor;
  };
}
