import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSettings } from './settings.js';

/** A pasted token in production; on `mediagate dev` also a one-click sign-in the dev server mints. */
export function SignIn({ onSignedIn }) {
  const [devSignIn, setDevSignIn] = useState(false);
  const [pasted, setPasted] = useState('');
  const [sub, setSub] = useState('alice');
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    loadSettings().then((s) => setDevSignIn(s.devSignIn));
  }, []);

  const devToken = async (event) => {
    event.preventDefault();
    const response = await fetch('./dev-token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub, admin }),
    });
    const body = await response.json();
    if (response.ok) onSignedIn(body.token);
    else setError(body.detail ?? 'Sign-in failed');
  };
  const usePasted = (event) => {
    event.preventDefault();
    if (pasted.trim().split('.').length === 3) onSignedIn(pasted.trim());
    else setError('That is not a JWT (three dot-separated parts).');
  };

  return html`
    <main id="main" class="sign-in">
      <h1>mediagate console</h1>
      ${
        devSignIn &&
        html`<form onSubmit=${devToken} aria-labelledby="dev-title">
          <h2 id="dev-title">Development sign-in</h2>
          <p>This server runs <code>mediagate dev</code>: it mints a token for any name.</p>
          <label>User id <input name="sub" value=${sub} onInput=${(e) => setSub(e.target.value)} required /></label>
          <label class="check"><input type="checkbox" checked=${admin} onChange=${(e) => setAdmin(e.target.checked)} /> Operator (admin role)</label>
          <button type="submit">Sign in</button>
        </form>`
      }
      <form onSubmit=${usePasted} aria-labelledby="token-title">
        <h2 id="token-title">Sign in with a token</h2>
        <label>Bearer token (JWT from your identity provider)
          <textarea name="token" rows="4" value=${pasted} onInput=${(e) => setPasted(e.target.value)}></textarea>
        </label>
        <button type="submit">Use token</button>
      </form>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </main>
  `;
}
