import type { OnCallContext } from '../../requests/ports';
import { escapeText, mention, relativeTime, truncate } from './format';

/** The line shown when PagerDuty could not be asked: the request goes on without it. */
export function oncallUnknownText(reason: string): string {
  return `:pager: On-call unknown: PagerDuty did not answer (${escapeText(truncate(reason, 120))}).`;
}

/**
 * The on-call context slot of approval messages and the requester's pending DM: who is on call at
 * levels 1 and 2 for the resource's PagerDuty service (a Slack mention when their PagerDuty email
 * is a Slack user) and its open incidents (number, title, urgency, status, age, link).
 */
export function oncallContextText(context: OnCallContext, slackIdOf: (email: string) => string | undefined, now: number): string {
  const service = escapeText(context.serviceName ? `${context.serviceName} (${context.service})` : context.service);
  const levels = [1, 2].map((level) => {
    const people = context.oncall.filter((o) => o.level === level);
    const names = people.map((p) => {
      const id = p.email ? slackIdOf(p.email) : undefined;
      return id ? mention(id) : escapeText(p.name ?? p.email ?? 'someone');
    });
    return `L${level} ${names.length ? [...new Set(names)].join(', ') : '_nobody_'}`;
  });
  const lines = [`:pager: *On call for ${service}*: ${levels.join(' · ')}`];
  if (context.incidents.length === 0) lines.push(':large_green_circle: No open incidents.');
  else {
    const shown = context.incidents.slice(0, 5).map((i) => {
      const label = escapeText(truncate(`#${i.number ?? i.id} ${i.title ?? ''}`.trim(), 80));
      const link = i.url && /^https?:\/\//.test(i.url) ? `<${i.url}|${label}>` : label;
      const age = i.createdAt !== undefined ? `, opened ${relativeTime(i.createdAt, now)}` : '';
      return `${link} (${escapeText(i.urgency ?? 'unknown')} urgency, ${i.status}${age})`;
    });
    const more = context.incidents.length > 5 ? ` and ${context.incidents.length - 5} more` : '';
    lines.push(`:rotating_light: *Open incidents*: ${shown.join('; ')}${more}`);
  }
  return lines.join('\n');
}
