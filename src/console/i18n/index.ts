import { account as enAccount } from './en/account.ts';
import { common as enCommon } from './en/common.ts';
import { inbox as enInbox } from './en/inbox.ts';
import { report as enReport } from './en/report.ts';
import { signals as enSignals } from './en/signals.ts';
import { signin as enSignin } from './en/signin.ts';
import { staff as enStaff } from './en/staff.ts';
import { account } from './nl/account.ts';
import { common } from './nl/common.ts';
import { inbox } from './nl/inbox.ts';
import { report } from './nl/report.ts';
import { signals } from './nl/signals.ts';
import { signin } from './nl/signin.ts';
import { staff } from './nl/staff.ts';

/**
 * The console's message catalogs, one file per area and language: Dutch is the default and the
 * shape; English must have every key (the compiler checks). Another area adds its own files here.
 */
const nl = { common, signin, account, staff, report, signals, inbox };
export type Messages = typeof nl;
const en: Messages = { common: enCommon, signin: enSignin, account: enAccount, staff: enStaff, report: enReport, signals: enSignals, inbox: enInbox };

export const LANGUAGES = ['nl', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];
export const CATALOGS: Record<Lang, Messages> = { nl, en };

export function isLang(value: string | undefined): value is Lang {
  return value === 'nl' || value === 'en';
}
