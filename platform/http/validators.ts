import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { isTimestamp } from '../../contracts/text.ts';
import { focusUnionErrors } from './union-errors.ts';

/** Enough to fix a request by hand; a body of a million unknown keys must not echo back a million errors. */
export const maxReportedErrors = 20;

/**
 * Bodies are validated strictly: `"size": "100"` or `true` is a client bug to report, not to coerce.
 * Query strings and path parameters arrive as text, so there numbers are coerced from their digits (and only
 * digits: Ajv alone would read `0x10`, `1e1`, `+5` or ` 5` as numbers), and a repeated parameter
 * (`?token=a&token=b`) becomes an array that fails a scalar schema.
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
    httpPart === 'body'
      ? capErrors(strict.compile(schema))
      : decimalOnly(schema, capErrors(coercing.compile(schema))),
  );
}

type Validator = ReturnType<typeof capErrors>;
const decimal = /^-?[0-9]+(\.[0-9]+)?$/;

/** Refuses a numeric parameter written other than in decimal digits before Ajv would coerce it. */
function decimalOnly(schema: unknown, validate: Validator): Validator {
  const numeric = numericProperties(schema);
  if (numeric.length === 0) return validate;
  const checked = (data: unknown) => {
    const values = (data ?? {}) as Record<string, unknown>;
    const errors = numeric
      .filter((name) => typeof values[name] === 'string' && !decimal.test(values[name]))
      .map(
        (name): ErrorObject => ({
          instancePath: `/${name}`,
          schemaPath: `#/properties/${name}/type`,
          keyword: 'type',
          params: { type: 'number' },
          message: 'must be a number in decimal digits',
        }),
      );
    if (errors.length > 0) {
      checked.errors = errors;
      return false;
    }
    const valid = validate(data);
    checked.errors = validate.errors;
    return valid;
  };
  checked.errors = null as ErrorObject[] | null;
  return checked;
}

interface JsonSchema {
  type?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

function numericProperties(schema: unknown): string[] {
  const isNumeric = (s: JsonSchema): boolean =>
    s.type === 'integer' || s.type === 'number' || (s.anyOf ?? []).some(isNumeric);
  return Object.entries((schema as JsonSchema).properties ?? {})
    .filter(([, property]) => isNumeric(property))
    .map(([name]) => name);
}

function capErrors(validate: ValidateFunction) {
  const capped = (data: unknown) => {
    const valid = validate(data);
    const errors = validate.errors ? focusUnionErrors(validate.errors).map(namingExtraProperty) : null;
    capped.errors = errors && errors.length > maxReportedErrors ? truncate(errors) : errors;
    return valid;
  };
  capped.errors = null as ErrorObject[] | null;
  return capped;
}

/** Ajv's "must NOT have additional properties" says neither which one nor where; the caller needs both. */
function namingExtraProperty(error: ErrorObject): ErrorObject {
  if (error.keyword !== 'additionalProperties') return error;
  return { ...error, message: `must NOT have the property '${error.params.additionalProperty}'` };
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
