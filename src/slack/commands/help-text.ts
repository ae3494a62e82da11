import { escapeText, truncate } from '../blocks/format';
import { DURATION_FORMS } from './spoken-duration';

const COMMANDS: ReadonlyArray<[string, string]> = [
  ['/access', 'open the request form'],
  ['/access <resource> [duration] <reason>', 'request directly, e.g. `/access prod-db 2h INC-4711 look at the slow queries` (a ticket the workflow asks for goes in the reason)'],
  ['/access list', 'your requests and active access, with time left'],
  ['/access pending', 'requests waiting for your decision, with Approve and Deny'],
  ['/access cancel <id>', 'withdraw a pending request'],
  ['/access revoke <id>', 'end your access now'],
  ['/access extend <id> <duration> [reason]', 'ask for more time on active access (approved like a new request)'],
  ['/access key add <public key>', 'register your public key once (SSH: the contents of ~/.ssh/id_ed25519.pub)'],
  ['/access key list', 'your registered keys'],
  ['/access key remove <fingerprint>', 'forget a key'],
  ['/access breakglass <resource> [duration] <reason>', 'emergency access for the on-call during an incident, reviewed afterwards'],
  ['/access help', 'this list'],
];

/** The help reply: every command with what it does, and the resources this person may request. */
export function helpText(resources: string[], problem?: string): string {
  const lines: string[] = [];
  if (problem) lines.push(`:thinking_face: ${problem}`, '');
  lines.push('*access-bot*: just-in-time access, approved in Slack, delivered as a short-lived certificate.');
  for (const [command, what] of COMMANDS) lines.push(`• \`${escapeText(command)}\`: ${what}`);
  lines.push('', `Durations look like ${DURATION_FORMS}; without one you get the resource's default.`);
  lines.push(
    resources.length > 0
      ? `Resources you may request: ${truncate([...resources].sort().map((r) => `\`${escapeText(r)}\``).join(', '), 1500)}`
      : 'No workflow names you (or a group you are in) as a requester yet; ask an access-bot admin.',
  );
  return lines.join('\n');
}
