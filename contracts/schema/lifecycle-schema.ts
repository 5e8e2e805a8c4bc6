import type { TSchema } from '@sinclair/typebox';
import {
  LifecycleEvent,
  lifecycleEventTypes,
  lifecycleSchemaVersion,
  MediaDeletedEvent,
  MediaFailedEvent,
  MediaReadyEvent,
  MediaRejectedEvent,
  MediaUpdatedEvent,
  MediaVariantReadyEvent,
} from '../lifecycle.ts';

/** Where the published schemas say they live; `$id`s are absolute so any resolver can tell them apart. */
export const schemaBaseUrl = `https://mediagate.dev/schemas/lifecycle/v${lifecycleSchemaVersion}/`;

const byType = {
  'media.ready': MediaReadyEvent,
  'media.failed': MediaFailedEvent,
  'media.rejected': MediaRejectedEvent,
  'media.deleted': MediaDeletedEvent,
  'media.updated': MediaUpdatedEvent,
  'media.variant.ready': MediaVariantReadyEvent,
} satisfies Record<(typeof lifecycleEventTypes)[number], TSchema>;

/**
 * The lifecycle contract as JSON Schema (draft 2020-12) files, by file name: `lifecycle.schema.json`, one
 * self-contained schema any event validates against, and one file per event type. Plain JSON of the TypeBox
 * schemas (TypeBox's own markers are symbols, which JSON leaves out); only the `$id`s are rewritten.
 */
export function lifecycleSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'lifecycle.schema.json': render('lifecycle.schema.json', 'LifecycleEvent', LifecycleEvent),
  };
  for (const type of lifecycleEventTypes) {
    const name = `${type}.schema.json`;
    files[name] = render(name, type, byType[type]);
  }
  return files;
}

function render(file: string, title: string, schema: TSchema): string {
  const plain = withoutIds(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
  const document = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${schemaBaseUrl}${file}`,
    title,
    ...plain,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Nested `$id`s would make each event a resource of its own, resolved against the file's URL: each gets a title. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$id') out.title = inner;
    else out[key] = withoutIds(inner);
  }
  return out;
}
