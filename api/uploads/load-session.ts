import { and, eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { media, uploadSession } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';

export type SessionRow = typeof uploadSession.$inferSelect;
export type MediaRow = typeof media.$inferSelect;

/** How soon a caller turned away by a completion in flight should ask again; most gates take a second. */
const completingRetryAfterSeconds = 2;

/** Someone else's upload answers exactly like a missing one: ids leak nothing across users. */
export async function loadSession(ctx: ApiContext, caller: Principal, uploadId: string): Promise<SessionRow> {
  const [row] = await ctx.db
    .select()
    .from(uploadSession)
    .where(and(eq(uploadSession.id, uploadId), eq(uploadSession.ownerId, caller.sub)));
  if (!row) throw new AppError('upload_not_found', `No upload ${uploadId}`);
  return row;
}

/** The session with its media in one read, for a completion, which needs both. */
export async function loadSessionWithMedia(
  ctx: ApiContext,
  caller: Principal,
  uploadId: string,
): Promise<{ session: SessionRow; media: MediaRow }> {
  const [row] = await ctx.db
    .select({ session: uploadSession, media })
    .from(uploadSession)
    .innerJoin(media, eq(media.id, uploadSession.mediaId))
    .where(and(eq(uploadSession.id, uploadId), eq(uploadSession.ownerId, caller.sub)));
  if (!row) throw new AppError('upload_not_found', `No upload ${uploadId}`);
  return row;
}

export function isExpired(session: SessionRow): boolean {
  const live = session.state === 'open' || session.state === 'completing';
  return live && session.expiresAt.getTime() < Date.now();
}

export function completingError(): AppError {
  return new AppError('upload_completing', 'Another request is completing this upload', {
    'retry-after': String(completingRetryAfterSeconds),
  });
}

export function requireOpen(session: SessionRow): void {
  if (isExpired(session) || session.state === 'expired') {
    throw new AppError('upload_expired', `The upload expired at ${session.expiresAt.toISOString()}`);
  }
  if (session.state === 'completing') throw completingError();
  if (session.state !== 'open') throw new AppError('upload_not_open', `The upload is ${session.state}`);
}
