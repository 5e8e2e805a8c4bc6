import type { ModerationCategory, Verdict } from './moderation.ts';

/**
 * Category name → the score at or above which the media is rejected. Categories without a threshold are
 * reported by vendors but never reject: vendors return many benign classes (context, "none", swimwear).
 */
export type Thresholds = Readonly<Record<string, number>>;

export function verdictFromScores(scores: Readonly<Record<string, number>>, thresholds: Thresholds): Verdict {
  const categories: ModerationCategory[] = [];
  for (const [name, score] of Object.entries(scores)) {
    // Names come from the vendor: only the operator's own entries count, never an inherited member.
    const threshold = Object.hasOwn(thresholds, name) ? thresholds[name] : undefined;
    if (threshold !== undefined && score >= threshold) categories.push({ name, score });
  }
  if (categories.length === 0) return { decision: 'allow' };
  categories.sort((a, b) => b.score - a.score);
  return { decision: 'reject', categories };
}

/** A video is as unsafe as its worst frame: keep each category's highest score. */
export function maxScores(perImage: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const worst = new Map<string, number>();
  for (const scores of perImage) {
    for (const [name, score] of Object.entries(scores)) {
      worst.set(name, Math.max(worst.get(name) ?? score, score));
    }
  }
  return scoreTable(worst);
}

/**
 * A vendor's category names become keys. `Object.fromEntries` defines own properties, so `__proto__` stays
 * a category like any other; assigning `table[name] = score` would set the prototype and drop the score.
 */
export function scoreTable(entries: Iterable<readonly [string, number]>): Record<string, number> {
  return Object.fromEntries(entries);
}
