import type { IncomingMessage } from 'node:http';

/** Arguments Slack takes as JSON-encoded strings in form posts; the fake decodes them like Slack does. */
const JSON_ARGUMENTS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks']);

export interface ParsedApiRequest {
  args: Record<string, unknown>;
  /** From `Authorization: Bearer …`, or the `token` form argument. */
  token: string | undefined;
  contentType: string;
  /** Slack's error for a body it cannot read (invalid_json, invalid_form_data, invalid_post_type). */
  bodyError?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function decodeFormValue(key: string, value: string): unknown {
  if (!JSON_ARGUMENTS.has(key)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** Reads a Web API call the way Slack accepts it: form-encoded or JSON body, query arguments, Bearer token. */
export async function parseApiRequest(req: IncomingMessage, url: URL): Promise<ParsedApiRequest> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
  const args: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) args[key] = decodeFormValue(key, value);

  const raw = await readBody(req);
  let bodyError: string | undefined;
  if (raw.length > 0) {
    if (contentType === 'application/json') {
      try {
        const parsed = JSON.parse(raw) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) Object.assign(args, parsed);
        else bodyError = 'invalid_json';
      } catch {
        bodyError = 'invalid_json';
      }
    } else if (contentType === 'application/x-www-form-urlencoded' || contentType === '') {
      for (const [key, value] of new URLSearchParams(raw)) args[key] = decodeFormValue(key, value);
    } else {
      bodyError = 'invalid_post_type';
    }
  }

  // Slack reads a token from the form or query, never from a JSON body.
  const formToken = contentType !== 'application/json' && typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  return { args, token: bearer ?? formToken, contentType, ...(bodyError ? { bodyError } : {}) };
}
