export { AccessBotError } from './access-bot-error';
export { ConfigError } from './config-error';
