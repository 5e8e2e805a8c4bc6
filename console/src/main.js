import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api.js';
import { OpsPage } from './ops/ops-page.js';
import { SignIn } from './sign-in.js';
import './style.css';
import { UploadPage } from './upload/upload-page.js';

function useRoute() {
  const [route, setRoute] = useState(location.hash.replace(/^#\/?/, '') || 'upload');
  useEffect(() => {
    const onHash = () => setRoute(location.hash.replace(/^#\/?/, '') || 'upload');
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function App() {
  const [token, setToken] = useState(session.token);
  const route = useRoute();
  const remember = (value) => {
    session.token = value;
    setToken(value);
  };
  if (!token) return html`<${SignIn} onSignedIn=${remember} />`;
  const signOut = () => remember(null);
  const page = route.startsWith('ops') && session.isAdmin ? 'ops' : 'upload';
  return html`
    <header class="bar">
      <strong class="brand">mediagate</strong>
      <nav aria-label="Console">
        <a href="#/upload" aria-current=${page === 'upload' ? 'page' : undefined}>Upload & gallery</a>
        ${session.isAdmin && html`<a href="#/ops" aria-current=${page === 'ops' ? 'page' : undefined}>Operations</a>`}
      </nav>
      <span class="who">${session.claims?.sub}${session.isAdmin ? ' (admin)' : ''}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      ${page === 'ops' ? html`<${OpsPage} />` : html`<${UploadPage} />`}
    </main>
  `;
}

render(html`<${App} />`, document.getElementById('app'));
