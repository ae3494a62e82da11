import { AccessBotError } from '../../../errors/access-bot-error';

/**
 * A public key a person submitted was refused. Each subclass is one reason; the message says
 * what is wrong in words the person can act on, and never repeats the submitted text.
 */
export abstract class SshPublicKeyRejectedError extends AccessBotError {}
