import { useEffect, useState } from 'preact/hooks';
import { post } from '../api.js';

const ends = ['media.ready', 'media.failed', 'media.rejected', 'media.deleted'];

/**
 * Follows a processing media over Server-Sent Events (a ?token= capability: EventSource sends no headers):
 * per-rendition progress, and `onChange` whenever a rendition is published or the media ends.
 */
export function useLiveStatus(mediaId, active, onChange) {
  const [progress, setProgress] = useState(null);
  useEffect(() => {
    if (!active) return undefined;
    let source;
    let closed = false;
    post(`/v1/media/${mediaId}/events/token`).then(({ url }) => {
      if (closed) return;
      source = new EventSource(url);
      source.addEventListener('media.progress', (e) => setProgress(JSON.parse(e.data).data.progress));
      source.addEventListener('media.variant.ready', () => onChange());
      for (const type of ends) {
        source.addEventListener(type, () => {
          source.close();
          setProgress(null);
          onChange();
        });
      }
    });
    return () => {
      closed = true;
      source?.close();
    };
  }, [mediaId, active]);
  return progress;
}
