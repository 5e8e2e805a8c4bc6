import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import { planParts } from '../../../api/uploads/part-plan.ts';
import { api, del, get, post } from '../api.js';

/**
 * Uppy's multipart uploader driven by mediagate's own upload routes: the API opens the session and signs
 * the part URLs, the browser PUTs the parts straight to storage, the API completes (and gates) it. Parts are
 * cut exactly as the API plans them, so Uppy's part numbers are the session's.
 */
export function createUploader(target, { partSizeBytes, onCompleted }) {
  const partUrls = new Map();
  const uppy = new Uppy({
    autoProceed: true,
    restrictions: { allowedFileTypes: ['image/*', 'video/*', 'audio/*'] },
  });
  uppy.use(Dashboard, {
    inline: true,
    target,
    width: '100%',
    height: 300,
    showProgressDetails: true,
    proudlyDisplayPoweredByUppy: false,
    note: 'Photos, videos and audio. Uploads resume after a drop; pause, resume and retry each file.',
  });
  uppy.use(AwsS3, {
    shouldUseMultipart: true,
    limit: 3,
    getChunkSize: (file) => planParts(file.size, partSizeBytes).partSize,
    async createMultipartUpload(file) {
      const session = await post('/v1/uploads', {
        filename: file.name,
        contentType: file.type || 'application/octet-stream',
        size: file.size,
      });
      partUrls.set(session.uploadId, new Map(session.parts.map((p) => [p.partNumber, p.url])));
      return { uploadId: session.uploadId, key: session.mediaId };
    },
    async signPart(_file, { uploadId, partNumber }) {
      const known = partUrls.get(uploadId)?.get(partNumber);
      if (known) {
        partUrls.get(uploadId).delete(partNumber);
        return { url: known, method: 'PUT' };
      }
      const fresh = await post(`/v1/uploads/${uploadId}/parts`, { partNumbers: [partNumber] });
      return { url: fresh.parts[0].url, method: 'PUT' };
    },
    async listParts(_file, { uploadId }) {
      const state = await get(`/v1/uploads/${uploadId}`);
      return state.uploadedParts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }));
    },
    async completeMultipartUpload(_file, { uploadId, key, parts }) {
      await api('POST', `/v1/uploads/${uploadId}/complete`, {
        parts: parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag })),
      });
      partUrls.delete(uploadId);
      onCompleted(key);
      return {};
    },
    async abortMultipartUpload(_file, { uploadId }) {
      partUrls.delete(uploadId);
      await del(`/v1/uploads/${uploadId}`);
    },
  });
  return uppy;
}
