/**
 * Base of every error access-bot raises on purpose. `code` is stable (logs, audit, API clients
 * match on it); `status` is what an HTTP caller gets; the message is safe to show to the person.
 */
export abstract class AccessBotError extends Error {
  abstract readonly code: string;
  readonly status: number = 400;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
