import type { RequestState } from './types';

/** States in which a request still matters for access: waiting for a decision, or a live grant. */
const OPEN_STATES: ReadonlySet<RequestState> = new Set(['pending', 'approved', 'issued']);

export function isOpenState(state: RequestState): boolean {
  return OPEN_STATES.has(state);
}

/** Approved or issued: access granted (a certificate exists or is on its way). */
export function isActiveGrant(state: RequestState): boolean {
  return state === 'approved' || state === 'issued';
}
