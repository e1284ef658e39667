import { type LabelMatcher, labelsMatch } from '@ds01/events-core/jobs';
import { LABELS } from '@ds01/events-core/labels';

export interface Selection {
  /** Also consider containers without `ds01.managed=true`. */
  includeUnmanaged: boolean;
  /** Containers carrying any of these labels are left out. */
  excludeLabels: LabelMatcher[];
  /** Docker's name filter (a substring or regular expression, as `docker ps --filter name=`). */
  nameFilter?: string;
}

/**
 * Decides from a listing item alone (no inspect) whether the run looks at a
 * container; returns why not, or null when it is selected.
 */
export function selectionMiss(item: { Labels?: Record<string, string> | null }, sel: Selection): string | null {
  const labels = item.Labels ?? {};
  if (!sel.includeUnmanaged && labels[LABELS.managed] !== 'true') return 'unmanaged';
  const hit = sel.excludeLabels.find((m) => labelsMatch(labels, m));
  if (hit) return `excluded_label:${hit.text}`;
  return null;
}
