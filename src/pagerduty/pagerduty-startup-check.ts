import { z } from 'zod';
import type { Policy } from '../config/policy';
import type { Logger } from '../log/logger';
import { PagerDutyAuthError } from './errors/pagerduty-auth-error';
import { PagerDutySetupError } from './errors/pagerduty-setup-error';
import { reasonOf, type PagerDutyClient } from './pagerduty-client';
import { EscalationPolicySchema, ServiceSchema, UserSchema } from './pagerduty-schemas';

/** Every PagerDuty service and escalation policy the workflow files name. */
export function pagerDutyReferences(policy: Policy): { services: string[]; escalationPolicies: string[] } {
  const services = new Set<string>();
  const policies = new Set<string>();
  for (const r of policy.resources.values()) if (r.pagerduty_service) services.add(r.pagerduty_service);
  for (const w of policy.workflows.values()) {
    for (const s of w.break_glass?.pagerduty_services ?? []) services.add(s);
    for (const s of w.break_glass?.on_incident?.services ?? []) services.add(s);
    for (const stage of w.stages) if (stage.approvers.pagerduty_oncall) policies.add(stage.approvers.pagerduty_oncall.escalation_policy);
    if (w.break_glass?.reviewers?.pagerduty_oncall) policies.add(w.break_glass.reviewers.pagerduty_oncall.escalation_policy);
  }
  return { services: [...services].sort(), escalationPolicies: [...policies].sort() };
}

/**
 * At start: the API key works, `PAGERDUTY_FROM_EMAIL` is a PagerDuty user (notes need it), and every
 * service and escalation policy the workflows name exists. A bad key or a missing reference stops
 * the start (listing every problem); PagerDuty not answering does not (it may come back; until then
 * break-glass is refused and on-call context shows "unknown"). Returns one line per reference.
 */
export async function checkPagerDuty(client: PagerDutyClient, policy: Policy, fromEmail: string, logger: Logger): Promise<string[]> {
  try {
    await client.list('/abilities', 'abilities', z.string(), 'abilities (the API key check)');
  } catch (err) {
    if (err instanceof PagerDutyAuthError) throw new PagerDutySetupError([err.message]);
    logger.warn({ reason: reasonOf(err) }, 'PagerDuty did not answer the start-up check; break-glass is refused until it does');
    return [`pagerduty: not reachable at start (${reasonOf(err)}); checked again on every decision`];
  }
  const refs = pagerDutyReferences(policy);
  const problems: string[] = [];
  const lines: string[] = [];
  const from = (await client.list('/users', 'users', UserSchema, 'the From user', { query: fromEmail.toLowerCase() })).find(
    (u) => u.email.toLowerCase() === fromEmail.toLowerCase(),
  );
  if (!from) problems.push(`PAGERDUTY_FROM_EMAIL ${fromEmail} is not a PagerDuty user: notes on incidents would be refused`);
  else lines.push(`pagerduty: notes are written as ${from.name ?? from.email} (${from.id})`);
  for (const id of refs.services) {
    const service = await client.getOne(`/services/${encodeURIComponent(id)}`, 'service', ServiceSchema, `service ${id}`);
    if (!service) problems.push(`service ${id}, named in the workflow files, does not exist in PagerDuty (or the API key cannot see it)`);
    else lines.push(`pagerduty: service ${id} (${service.name ?? 'unnamed'}) usable, escalation policy ${service.escalation_policy.id}`);
  }
  for (const id of refs.escalationPolicies) {
    const found = await client.getOne(`/escalation_policies/${encodeURIComponent(id)}`, 'escalation_policy', EscalationPolicySchema, `escalation policy ${id}`);
    if (!found) problems.push(`escalation policy ${id}, named in the workflow files, does not exist in PagerDuty (or the API key cannot see it)`);
    else lines.push(`pagerduty: escalation policy ${id} (${found.name ?? 'unnamed'}) usable`);
  }
  if (problems.length > 0) throw new PagerDutySetupError(problems);
  return lines;
}
