import { z } from 'zod';
import { WorkflowFileSchema } from './workflow-schema';

/**
 * The JSON Schema editors use to complete and check workflow files (`workflows/schema.json`).
 * `io: 'input'` describes what people write (`4h`), not what the loader produces (milliseconds).
 * Draft-07, because the YAML language server (VS Code, Neovim, Helix) fully supports only that
 * draft; the schema uses no keyword newer than it, so only the `$schema` line differs.
 */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(z.toJSONSchema(WorkflowFileSchema, { io: 'input', target: 'draft-7' }), null, 2)}\n`;
}
