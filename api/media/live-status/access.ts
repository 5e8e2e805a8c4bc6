import { AppError } from '../../../contracts/errors.ts';
import type { Queryable } from '../../../db/client.ts';
import type { Principal } from '../../../platform/auth/jwt.ts';
import { type MediaRow, readMedia } from './reads.ts';

/**
 * How the caller proved who they are: a Bearer token is checked against the media's owner (or the admin
 * role) here; a stream token was checked when it was issued and names this one media.
 */
export type Watcher = { principal: Principal; by: 'bearer' | 'stream-token' };

/**
 * The media a caller may follow, with the answer `GET /v1/media/:id` gives everyone else: 404, whether it
 * exists or not. A deleted media stays followable by its owner and admins, so a client that lost its id (a
 * page reload) still learns of the deletion from a fresh stream; nobody else learns it ever existed.
 */
export async function watchableMedia(db: Queryable, watcher: Watcher, mediaId: string): Promise<MediaRow> {
  const row = await readMedia(db, mediaId);
  const allowed =
    row &&
    (watcher.by === 'stream-token' ||
      row.ownerId === watcher.principal.sub ||
      watcher.principal.roles.includes('admin'));
  if (!row || !allowed) {
    throw new AppError('media_not_found', `No media ${mediaId}`);
  }
  return row;
}
