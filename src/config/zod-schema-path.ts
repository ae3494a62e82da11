import { z } from 'zod';

type Schema = z.core.$ZodType;

/** Strips wrappers that do not change how a value is written in the file. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

/** The schema that validates the value at `path` inside data validated by `root`, when it can be followed. */
export function schemaAtPath(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let current: Schema = root;
  for (const segment of path) {
    const bare = unwrap(current);
    if (bare instanceof z.ZodObject) {
      const next: Schema | undefined = (bare.shape as Record<string, Schema>)[String(segment)];
      if (!next) return undefined;
      current = next;
    } else if (bare instanceof z.ZodRecord) {
      current = bare.valueType;
    } else if (bare instanceof z.ZodArray) {
      current = bare.element;
    } else {
      return undefined;
    }
  }
  return current;
}

/** The keys an object schema accepts, in declaration order; undefined when `schema` is not an object. */
export function objectKeys(schema: Schema | undefined): string[] | undefined {
  if (!schema) return undefined;
  const bare = unwrap(schema);
  return bare instanceof z.ZodObject ? Object.keys(bare.shape) : undefined;
}
