import type { ErrorObject } from 'ajv';

/** Errors that say a value is not of a branch's shape at all, rather than a wrong detail inside it. */
const shapeKeywords = new Set(['required', 'additionalProperties', 'type', 'const', 'enum']);

/**
 * Ajv reports a failed `anyOf` with every branch's errors: a replay body naming `from`, `to` and a bad
 * `topic` was also told it lacked `ids` and `mediaId`. The branch closest to the value's shape (fewest
 * properties missing or unknown, or types wrong, at the union's own level) is the form the caller meant, and
 * only its errors are kept; a union of constants becomes one error listing the values it takes. When several
 * branches are equally close and none fits, every branch's errors are kept: each says what one form needs.
 */
export function focusUnionErrors(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors;
  // Innermost first: a branch is judged by its errors after its own unions were focused.
  const unions = errors
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const union of unions) {
    const prefix = `${union.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const error of kept) {
      if (!error.schemaPath.startsWith(prefix)) continue;
      const branch = error.schemaPath.slice(prefix.length).split('/', 1)[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), error]);
    }
    const all = [...branches.values()];
    if (all.length === 0) continue;
    if (all.every((b) => b.length === 1 && b[0]?.keyword === 'const')) {
      const allowedValues = all.map((b) => b[0]?.params.allowedValue);
      const oneOf: ErrorObject = {
        instancePath: union.instancePath,
        schemaPath: union.schemaPath,
        keyword: 'enum',
        params: { allowedValues },
        message: `must be one of ${allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
      };
      kept = kept.flatMap((e) => (e === union ? [oneOf] : e.schemaPath.startsWith(prefix) ? [] : [e]));
      continue;
    }
    const misfits = (b: ErrorObject[]) =>
      b.filter((e) => e.instancePath === union.instancePath && shapeKeywords.has(e.keyword)).length;
    const fewest = Math.min(...all.map(misfits));
    const closestShapes = all.filter((b) => misfits(b) === fewest);
    // Several forms equally far from the value: each one's errors say what it would need.
    if (fewest > 0 && closestShapes.length > 1) continue;
    const closest = closestShapes.reduce((best, b) => (b.length < best.length ? b : best));
    const dropped = new Set([union, ...all.filter((b) => b !== closest).flat()]);
    kept = kept.filter((e) => !dropped.has(e));
  }
  return kept;
}
