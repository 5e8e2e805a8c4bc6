import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { del, get, patch } from '../api.js';
import { loadSettings } from '../settings.js';
import { GalleryItem } from './gallery-item.js';
import './upload.css';
import { createUploader } from './uploader.js';

/** The reference upload page: Uppy above, the caller's gallery below, kept in the API's order. */
export function UploadPage() {
  const target = useRef(null);
  const [items, setItems] = useState([]);
  const [notice, setNotice] = useState('');
  const [dragged, setDragged] = useState(null);

  const load = useCallback(async () => {
    const list = await get('/v1/media?owner=me&limit=200');
    setItems(list.items.filter((m) => m.status !== 'deleted'));
  }, []);

  useEffect(() => {
    let uppy;
    loadSettings().then((settings) => {
      uppy = createUploader(target.current, { partSizeBytes: settings.partSizeBytes, onCompleted: load });
    });
    load();
    return () => uppy?.destroy();
  }, []);

  const move = async (media, to) => {
    if (to < 0 || to >= items.length) return;
    const wanted = items[to].position;
    const moved = await patch(`/v1/media/${media.id}`, { position: wanted });
    setNotice(
      moved.position === wanted
        ? `Moved the ${media.kind} to slot ${moved.position}.`
        : `The ${media.kind} landed in slot ${moved.position}: slot 0 stays the video's.`,
    );
    await load();
  };
  const visibility = async (media, value) => {
    await patch(`/v1/media/${media.id}`, { visibility: value });
    setNotice(`The ${media.kind} is now ${value}.`);
    await load();
  };
  const remove = async (media) => {
    await del(`/v1/media/${media.id}`);
    setNotice(`Deleted the ${media.kind}.`);
    await load();
  };
  const dragProps = (media, index) => ({
    draggable: true,
    onDragStart: (e) => {
      setDragged(media);
      e.dataTransfer.effectAllowed = 'move';
    },
    onDragOver: (e) => e.preventDefault(),
    onDrop: (e) => {
      e.preventDefault();
      if (dragged && dragged.id !== media.id) move(dragged, index);
      setDragged(null);
    },
  });

  return html`
    <h1>Upload</h1>
    <section aria-labelledby="upload-title">
      <h2 id="upload-title" class="visually-hidden">Drop files</h2>
      <div ref=${target} class="uppy-target"></div>
    </section>
    <section aria-labelledby="gallery-title">
      <h2 id="gallery-title">Your gallery</h2>
      <p role="status" class="notice">${notice}</p>
      ${items.length === 0 && html`<p class="muted">Nothing uploaded yet.</p>`}
      <ol class="gallery">
        ${items.map(
          (m, i) => html`<${GalleryItem} key=${m.id} media=${m} index=${i} count=${items.length}
            onMove=${move} onVisibility=${visibility} onDelete=${remove} onRefresh=${load}
            dragProps=${dragProps(m, i)} />`,
        )}
      </ol>
    </section>
  `;
}
