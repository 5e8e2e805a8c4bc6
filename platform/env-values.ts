/** Parsers for environment values: each one names the variable in its error, so a bad setting fails at start. */

export type Env = Record<string, string | undefined>;

/** `KAFKA_SASL_MECHANISM` turns SASL on; the username and password are then required by the schema. */
export function kafkaSasl(mechanism?: string, username?: string, password?: string) {
  if (!mechanism) return undefined;
  return { mechanism: mechanism.toLowerCase(), username: username ?? '', password: password ?? '' };
}

export function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw new Error(`Invalid configuration: ${name} must be an integer, got "${raw}"`);
  return n;
}

export function bool(raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

/** `nudity.sexual_activity=0.5,weapon.firearm=0.7`: a category at or above its threshold rejects. */
export function thresholds(raw: string): Record<string, number> {
  return Object.fromEntries(
    list(raw).map((pair) => {
      const [name, value] = pair.split('=');
      return [name?.trim() ?? '', Number(value)];
    }),
  );
}

export function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
