import { WITHHELD_SEARCH } from '@/lib/quarantine/withheld-search.ts';

/** An ISO time as the filter was given, without the seconds and milliseconds it does not need. */
const when = (v: string): string => v.replace('T', ' ').replace(/:00\.000Z$|\.000Z$/, '');

/** How each quarantine filter parameter reads in a sentence ("type is transactions"). */
const WORDS: Record<string, (v: string) => string> = {
  type: (v) => `type is ${v}`,
  stage: (v) => `stage is ${v}`,
  reason: (v) => `reason is ${v}`,
  status: (v) => (v === 'all' ? 'any status' : `status is ${v}`),
  from: (v) => `quarantined from ${when(v)}`,
  to: (v) => `quarantined before ${when(v)}`,
  q: (v) => `text contains “${v}”`,
  // The audit log never keeps a search's text (lib/quarantine/filter.ts withheldSearch), only its length.
  [WITHHELD_SEARCH]: (v) => `text contains a search of ${v} characters (withheld)`,
};

/**
 * A quarantine filter (as the audit log stores it) in words, e.g. "type is transactions · text contains “/gender”";
 * empty for no filter.
 */
export function filterWords(filter: Record<string, string>): string {
  const parts = Object.entries(filter)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => (WORDS[k] ?? ((x: string) => `${k} is ${x}`))(v));
  return parts.join(' · ');
}
