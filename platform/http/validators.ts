import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { isTimestamp } from '../../contracts/text.ts';

/** Enough to fix a request by hand; a body of a million unknown keys must not echo back a million errors. */
export const maxReportedErrors = 20;

/**
 * Bodies are validated strictly: `"size": "100"` or `true` is a client bug to report, not to coerce.
 * Query strings and path parameters arrive as text, so there numbers are coerced from their digits, and a
 * repeated parameter (`?token=a&token=b`) becomes an array that fails a scalar schema.
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
    // A date-time is judged by the instant it denotes, as the CLI judges it (contracts/text.ts).
    ajv.addFormat('date-time', isTimestamp);
    return ajv;
  };
  const strict = make(false);
  const coercing = make('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    capErrors((httpPart === 'body' ? strict : coercing).compile(schema)),
  );
}

function capErrors(validate: ValidateFunction) {
  const capped = (data: unknown) => {
    const valid = validate(data);
    const errors = validate.errors ?? null;
    capped.errors = errors && errors.length > maxReportedErrors ? truncate(errors) : errors;
    return valid;
  };
  capped.errors = null as ErrorObject[] | null;
  return capped;
}

function truncate(errors: ErrorObject[]): ErrorObject[] {
  const rest = errors.length - maxReportedErrors;
  const summary: ErrorObject = {
    instancePath: '',
    schemaPath: '#',
    keyword: 'maxErrors',
    params: { omitted: rest },
    message: `and ${rest} more errors`,
  };
  return [...errors.slice(0, maxReportedErrors), summary];
}
