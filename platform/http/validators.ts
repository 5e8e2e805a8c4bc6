import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Bodies are validated strictly: `"size": "100"` or `true` is a client bug to report, not to coerce.
 * Query strings and path parameters arrive as text, so there numbers are coerced from their digits.
 */
export function installValidators(app: FastifyInstance): void {
  const make = (coerceTypes: false | 'array') => {
    const ajv = new Ajv({
      coerceTypes,
      useDefaults: true,
      removeAdditional: false,
      allErrors: true,
      strict: false,
    });
    addFormats.default(ajv);
    return ajv;
  };
  const strict = make(false);
  const coercing = make('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}
