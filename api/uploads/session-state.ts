import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { uploadSession } from '../../db/schema.ts';

/**
 * Every move of an upload session is a compare-and-set: `UPDATE … WHERE state = <expected> RETURNING`, so
 * of two requests racing on one session exactly one moves it and the other learns it lost.
 *
 *   open ──claim──▶ completing ──record──▶ completed
 *   open ◀──release── completing                       (the gate decided nothing: retry is safe)
 *   completing past its lease ──claim──▶ completing    (a crashed holder's claim taken over)
 *   open, or completing past its lease ──abort / media delete──▶ aborted
 *   open or completing, past the deadline and its grace ──sweeper──▶ expired
 *
 * While `completing`, `closed_at` holds the moment of the claim, stamped by the database to the
 * millisecond. It is the lease (a claim older than the lease belongs to a holder that crashed or hung) and
 * the fencing token (a holder records its outcome only while the stamp is still its own, so a holder whose
 * claim was taken over can never overwrite the new holder's outcome).
 */
export interface Claim {
  sessionId: string;
  stamp: Date;
}

const stampNow = sql`date_trunc('milliseconds', clock_timestamp())`;

/** Open, or held by a claim older than the lease. */
function takeable(leaseSeconds: number): SQL {
  return sql`(${uploadSession.state} = 'open' or (${uploadSession.state} = 'completing'
    and ${uploadSession.closedAt} < now() - make_interval(secs => ${leaseSeconds})))`;
}

function held(claim: Claim): SQL | undefined {
  return and(
    eq(uploadSession.id, claim.sessionId),
    eq(uploadSession.state, 'completing'),
    eq(uploadSession.closedAt, claim.stamp),
  );
}

/** Claims the session for one completion; undefined when another holds it, or it closed or expired. */
export async function claimCompletion(
  db: Queryable,
  sessionId: string,
  leaseSeconds: number,
): Promise<Claim | undefined> {
  const [row] = await db
    .update(uploadSession)
    .set({ state: 'completing', closedAt: stampNow })
    .where(
      and(eq(uploadSession.id, sessionId), sql`${uploadSession.expiresAt} > now()`, takeable(leaseSeconds)),
    )
    .returning({ stamp: uploadSession.closedAt });
  return row?.stamp ? { sessionId, stamp: row.stamp } : undefined;
}

/** Gives the session back (the gate could not decide); false when the claim was no longer ours. */
export async function releaseClaim(db: Queryable, claim: Claim): Promise<boolean> {
  const rows = await db
    .update(uploadSession)
    .set({ state: 'open', closedAt: null })
    .where(held(claim))
    .returning({ id: uploadSession.id });
  return rows.length > 0;
}

/** Records the end of a claimed completion; false when the claim was taken over meanwhile. */
export async function closeClaim(
  tx: Queryable,
  claim: Claim,
  state: 'completed' | 'aborted',
): Promise<boolean> {
  const rows = await tx
    .update(uploadSession)
    .set({ state, closedAt: sql`now()` })
    .where(held(claim))
    .returning({ id: uploadSession.id });
  return rows.length > 0;
}

/** Aborts an open session, or one whose completion crashed; false when it was anywhere else. */
export async function abortSession(tx: Queryable, sessionId: string, leaseSeconds: number): Promise<boolean> {
  const rows = await tx
    .update(uploadSession)
    .set({ state: 'aborted', closedAt: sql`now()` })
    .where(and(eq(uploadSession.id, sessionId), takeable(leaseSeconds)))
    .returning({ id: uploadSession.id });
  return rows.length > 0;
}

/**
 * Expires the session if it is still open, or held by a completion, past its deadline. A claim is only
 * ever taken before the deadline, so once `graceSeconds` (longer than any lease) have passed its holder
 * is gone; were it not, its fenced record would fail and its caller get the expiry.
 */
export async function expireSession(
  tx: Queryable,
  sessionId: string,
  graceSeconds: number,
): Promise<boolean> {
  const rows = await tx
    .update(uploadSession)
    .set({ state: 'expired', closedAt: sql`now()` })
    .where(and(eq(uploadSession.id, sessionId), overdue(graceSeconds)))
    .returning({ id: uploadSession.id });
  return rows.length > 0;
}

/** Sessions the sweeper may expire. */
export function overdue(graceSeconds: number): SQL | undefined {
  return and(
    inArray(uploadSession.state, ['open', 'completing']),
    sql`${uploadSession.expiresAt} < now() - make_interval(secs => ${graceSeconds})`,
  );
}

export interface AbortedUpload {
  objectKey: string;
  storageUploadId: string;
}

/**
 * Aborts the upload of a media still awaiting it (its owner deletes it): the session if it is open or its
 * completion crashed; `completing` when a live completion holds it, which the caller must not override.
 */
export async function abortSessionOfMedia(
  tx: Queryable,
  mediaId: string,
  leaseSeconds: number,
): Promise<AbortedUpload | 'completing' | undefined> {
  const [aborted] = await tx
    .update(uploadSession)
    .set({ state: 'aborted', closedAt: sql`now()` })
    .where(and(eq(uploadSession.mediaId, mediaId), takeable(leaseSeconds)))
    .returning({ objectKey: uploadSession.objectKey, storageUploadId: uploadSession.storageUploadId });
  if (aborted) return aborted;
  const [live] = await tx
    .select({ id: uploadSession.id })
    .from(uploadSession)
    .where(and(eq(uploadSession.mediaId, mediaId), eq(uploadSession.state, 'completing')));
  return live ? 'completing' : undefined;
}
