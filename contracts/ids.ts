import { type StringOptions, Type } from '@sinclair/typebox';

/**
 * A UUID exactly as the API writes one: lower-case hex in 8-4-4-4-12 groups. The `uuid` format alone also
 * takes `urn:uuid:…` and upper case, which PostgreSQL either refuses (a 400 only through the database
 * backstop, after a logged query) or reads as another spelling of the same id.
 */
export const uuidPattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** Every id in a path, query or body: refused at validation unless canonical. */
export function Uuid(options: StringOptions = {}) {
  return Type.String({ ...options, format: 'uuid', pattern: uuidPattern });
}
