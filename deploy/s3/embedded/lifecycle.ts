import { malformedXml, S3Error } from './errors.ts';
import type { Multipart } from './multipart.ts';
import type { Store } from './store.ts';
import { childrenNamed, childText, parseXml, type XmlElement } from './xml.ts';

/**
 * Bucket lifecycle configuration: the document is stored verbatim, and of its actions this server
 * carries out AbortIncompleteMultipartUpload, on a sweep that runs periodically or on demand.
 */

interface AbortRule {
  prefix: string;
  days: number;
}

const DAY_MS = 86_400_000;

const child = (parent: XmlElement | undefined, name: string): XmlElement | undefined =>
  parent?.children.find((element) => element.name === name);

function rulePrefix(rule: XmlElement): string {
  const filter = child(rule, 'Filter');
  const and = child(filter, 'And');
  if ((filter && childrenNamed(filter, 'Tag').length > 0) || (and && childrenNamed(and, 'Tag').length > 0)) {
    throw new S3Error(400, 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
  }
  return childText(and, 'Prefix') ?? childText(filter, 'Prefix') ?? childText(rule, 'Prefix') ?? '';
}

/** Checks the document's shape and returns its enabled abort-incomplete-upload rules. */
export function parseLifecycle(xml: string): AbortRule[] {
  const root = parseXml(xml);
  const rules = childrenNamed(root, 'Rule');
  if (root.name !== 'LifecycleConfiguration' || rules.length === 0 || rules.length > 1000)
    throw malformedXml();
  const abortRules: AbortRule[] = [];
  for (const rule of rules) {
    const status = childText(rule, 'Status')?.trim();
    if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml();
    const abort = child(rule, 'AbortIncompleteMultipartUpload');
    if (!abort) continue;
    const days = childText(abort, 'DaysAfterInitiation')?.trim() ?? '';
    if (!/^\d+$/.test(days) || Number(days) < 1) {
      throw new S3Error(
        400,
        'InvalidArgument',
        "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
      );
    }
    const prefix = rulePrefix(rule);
    if (status === 'Enabled') abortRules.push({ prefix, days: Number(days) });
  }
  return abortRules;
}

/** S3 adds the days to the initiation time and rounds up to the next midnight UTC. */
const abortDueAt = (initiated: number, days: number): number =>
  (Math.floor(initiated / DAY_MS) + days + 1) * DAY_MS;

const vanished = (error: unknown): boolean =>
  error instanceof S3Error && (error.code === 'NoSuchUpload' || error.code === 'NoSuchBucket');

/** Aborts every upload a bucket's lifecycle says is overdue at `now`; returns how many it aborted. */
export async function sweepIncompleteUploads(
  store: Store,
  multipart: Multipart,
  now: number,
): Promise<number> {
  let aborted = 0;
  for (const name of await store.bucketNames()) {
    try {
      const xml = await store.getLifecycle(name);
      const rules = xml === undefined ? [] : parseLifecycle(xml);
      if (rules.length === 0) continue;
      for (const upload of await multipart.list(name)) {
        const due = rules.some(
          (rule) => upload.key.startsWith(rule.prefix) && now >= abortDueAt(upload.initiated, rule.days),
        );
        if (!due) continue;
        await multipart.abort(name, upload.key, upload.uploadId);
        aborted += 1;
      }
    } catch (error) {
      // A bucket or upload removed while the sweep ran is simply no longer its concern.
      if (!vanished(error)) throw error;
    }
  }
  return aborted;
}
