import { words } from '../vocabulary';

const TONE: Record<string, string> = {
  InProgress: 'running',
  Complete: 'ok',
  CompleteWithWarning: 'warning',
  CompleteWithError: 'error',
  FailedWithError: 'error',
  Cancelled: 'neutral',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${TONE[status] ?? 'neutral'}`}>{words(status)}</span>;
}
