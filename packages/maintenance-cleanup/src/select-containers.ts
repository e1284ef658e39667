import { type LabelMatcher, labelsMatch } from '@ds01/events-core/jobs';
import { LABELS } from '@ds01/events-core/labels';
import picomatch from 'picomatch';

export interface Selection {
  /** Also consider containers without `ds01.managed=true`. */
  includeUnmanaged: boolean;
  /** Containers carrying any of these labels are left out. */
  excludeLabels: LabelMatcher[];
  /** A glob on the container name (`alice-*`); undefined: every name. */
  nameFilter?: string;
}

interface Summary {
  Names?: string[];
  Labels?: Record<string, string> | null;
}

/** The Engine API filter for the listing: managed containers only, unless told otherwise. */
export function listFilters(sel: Selection): Record<string, string[]> {
  return sel.includeUnmanaged ? {} : { label: [`${LABELS.managed}=true`] };
}

/**
 * Decides from a listing item alone (no inspect) whether the run looks at a
 * container; returns why not, or null when it is selected.
 */
export function selectionMiss(item: Summary, sel: Selection, matchName?: (name: string) => boolean): string | null {
  const labels = item.Labels ?? {};
  const name = (item.Names?.[0] ?? '').replace(/^\//, '');
  if (!sel.includeUnmanaged && labels[LABELS.managed] !== 'true') return 'unmanaged';
  if (matchName && !matchName(name)) return 'name_filter';
  const hit = sel.excludeLabels.find((m) => labelsMatch(labels, m));
  if (hit) return `excluded_label:${hit.text}`;
  return null;
}

/** A name matcher for `--name-filter` (glob syntax; dots in names are ordinary characters). */
export function nameMatcher(pattern: string | undefined): ((name: string) => boolean) | undefined {
  if (!pattern) return undefined;
  return picomatch(pattern, { dot: true });
}
