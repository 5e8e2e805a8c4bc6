import { useEffect, useState } from 'preact/hooks';

let pending;

/** The server's console settings (part size, dev sign-in, the bus's logical topics), fetched once. */
export function loadSettings() {
  pending ??= fetch('./settings.json').then((r) => r.json());
  return pending;
}

export function useSettings() {
  const [settings, setSettings] = useState(null);
  useEffect(() => {
    loadSettings().then(setSettings);
  }, []);
  return settings;
}
