import type { Policy, Resource } from '../config/policy';
import { LOGIN_PATTERN } from '../config/workflow-schema';
import type { CertificateSubject, Person } from './types';

const TEMPLATE = /\{\{user\.(username|email|id)\}\}/g;

export type SubjectCheck =
  | { ok: true; subject: CertificateSubject }
  | { ok: false; code: 'IDENTITY_UNRESOLVED' | 'RESERVED_LOGIN'; message: string };

type Value = { ok: true; value: string } | { ok: false; message: string };

const ASK_ADMIN = 'Ask an access-bot admin to map your Slack account to your login under `identities:` in the workflow files.';

/**
 * The email as an identity, only when nobody but its owner could have put it there: the directory
 * confirmed it (Slack's `is_email_confirmed`) and its domain is one the operator allows. A Slack
 * profile email is otherwise something the user types, and `root@anything` must not become `root`.
 */
export function trustedEmail(person: Person, policy: Policy): Value {
  const email = person.email?.trim().toLowerCase();
  if (!email) return { ok: false, message: `Slack did not give access-bot your email address. ${ASK_ADMIN}` };
  if (person.emailVerified !== true)
    return { ok: false, message: `Your email address ${email} is not confirmed in Slack, so it cannot name your login or certificate. ${ASK_ADMIN}` };
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (policy.allowedEmailDomains.length === 0)
    return { ok: false, message: `No email domain is allowed to name logins (\`allowed_email_domains\` is not set). ${ASK_ADMIN}` };
  if (!policy.allowedEmailDomains.includes(domain))
    return {
      ok: false,
      message: `Email addresses at ${domain} cannot name logins or certificates (allowed: ${policy.allowedEmailDomains.join(', ')}). ${ASK_ADMIN}`,
    };
  return { ok: true, value: email };
}

/** The person's login name: the admins' mapping first, else the local part of a trusted email. */
export function loginFor(person: Person, policy: Policy): Value {
  const mapped = policy.identities.get(person.id);
  if (mapped !== undefined) return { ok: true, value: mapped };
  const email = trustedEmail(person, policy);
  if (!email.ok) return email;
  const local = email.value.slice(0, email.value.lastIndexOf('@'));
  if (!LOGIN_PATTERN.test(local))
    return { ok: false, message: `The part of your email before the @ ("${local}") is not a valid login name. ${ASK_ADMIN}` };
  return { ok: true, value: local };
}

/**
 * Renders `{{user.username}}`, `{{user.email}}` and `{{user.id}}` in one template. A template that
 * renders to a reserved login (root, admin, system accounts) is refused: only a resource that names
 * such a login literally grants it.
 */
export function renderTemplate(template: string, person: Person, policy: Policy): Value & { reserved?: boolean } {
  let failure: string | undefined;
  const rendered = template.replace(TEMPLATE, (_m, attr: string) => {
    if (attr === 'id') return person.id;
    const value = attr === 'email' ? trustedEmail(person, policy) : loginFor(person, policy);
    if (!value.ok) failure ??= value.message;
    return value.ok ? value.value : '';
  });
  if (failure !== undefined) return { ok: false, message: failure };
  if (rendered !== template && policy.reservedLogins.has(rendered))
    return { ok: false, reserved: true, message: `Your login would be "${rendered}", a reserved system name that access-bot never grants through a template. ${ASK_ADMIN}` };
  return { ok: true, value: rendered };
}

/** The exact principals (SSH) or subject (X.509) a certificate for this person and resource carries. */
export function certificateSubject(resource: Resource, person: Person, policy: Policy): SubjectCheck {
  const render = (template: string): Value & { reserved?: boolean } => renderTemplate(template, person, policy);
  const fail = (v: { message: string; reserved?: boolean }): SubjectCheck => ({
    ok: false,
    code: v.reserved ? 'RESERVED_LOGIN' : 'IDENTITY_UNRESOLVED',
    message: v.message,
  });
  if (resource.ssh) {
    const principals: string[] = [];
    for (const template of resource.ssh.principals) {
      const value = render(template);
      if (!value.ok) return fail(value);
      if (!principals.includes(value.value)) principals.push(value.value);
    }
    return { ok: true, subject: { kind: 'ssh', principals } };
  }
  if (resource.x509) {
    const cn = render(resource.x509.common_name);
    if (!cn.ok) return fail(cn);
    return { ok: true, subject: { kind: 'x509', commonName: cn.value, groups: [...resource.x509.groups] } };
  }
  return { ok: false, code: 'IDENTITY_UNRESOLVED', message: `Resource ${resource.name} yields no certificate.` };
}

/** Whether two subjects say the same thing (the worker's check of what approvers were shown). */
export function sameSubject(a: CertificateSubject, b: CertificateSubject): boolean {
  if (a.kind === 'ssh' && b.kind === 'ssh') return a.principals.length === b.principals.length && a.principals.every((p, i) => p === b.principals[i]);
  if (a.kind === 'x509' && b.kind === 'x509')
    return a.commonName === b.commonName && a.groups.length === b.groups.length && a.groups.every((g, i) => g === b.groups[i]);
  return false;
}

/** `jane.doe, postgres-ops` or `CN=jane@example.com, O=developers`: for messages. */
export function describeSubject(subject: CertificateSubject): string {
  if (subject.kind === 'ssh') return subject.principals.join(', ');
  return [`CN=${subject.commonName}`, ...subject.groups.map((g) => `O=${g}`)].join(', ');
}
